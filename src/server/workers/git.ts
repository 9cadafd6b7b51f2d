import { execFile } from 'node:child_process';

/** Who mainloop's own commits are by (the agent's commits keep whatever its environment says). */
export const COMMITTER = { name: 'mainloop', email: 'mainloop@localhost' };

export class GitError extends Error {
  constructor(
    readonly args: string[],
    readonly code: number | null,
    readonly stderr: string,
  ) {
    super(`git ${args.join(' ')} failed${code === null ? '' : ` (exit ${code})`}: ${stderr.trim() || 'no output'}`);
    this.name = 'GitError';
  }
}

/**
 * Runs git with a clean environment (no GIT_DIR or hooks path inherited from whoever started
 * the server, no pager, no prompts) and mainloop's identity for the commits it makes.
 */
export async function git(cwd: string, args: string[], options: { allowFailure?: boolean } = {}): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      [
        '-c',
        `user.name=${COMMITTER.name}`,
        '-c',
        `user.email=${COMMITTER.email}`,
        '-c',
        'core.hooksPath=/dev/null',
        ...args,
      ],
      {
        cwd,
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: process.env.HOME ?? '/',
          LANG: 'C.UTF-8',
          GIT_TERMINAL_PROMPT: '0',
          GIT_PAGER: 'cat',
        },
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        if (error && !options.allowFailure) return reject(new GitError(args, code, stderr || error.message));
        resolve({ code, stdout, stderr });
      },
    );
  });
}

export interface GitResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The trimmed stdout of a git command that must succeed. */
export async function gitOut(cwd: string, args: string[]): Promise<string> {
  return (await git(cwd, args)).stdout.trim();
}
