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

/** mainloop's identity for its own commits, and no hooks: the options every git call of mainloop's gets. */
const GIT_OPTIONS = [
  '-c',
  `user.name=${COMMITTER.name}`,
  '-c',
  `user.email=${COMMITTER.email}`,
  '-c',
  'core.hooksPath=/dev/null',
];

/**
 * Runs git with a clean environment (no GIT_DIR or hooks path inherited from whoever started
 * the server, no pager, no prompts) and mainloop's identity for the commits it makes.
 */
export async function git(cwd: string, args: string[], options: { allowFailure?: boolean } = {}): Promise<GitResult> {
  return run('git', [...GIT_OPTIONS, ...args], cwd, args, options);
}

/**
 * Runs several git commands as one `/bin/sh` script, in one process started by the server rather
 * than one each: starting a process from the server blocks its event loop while the (large) Node
 * process forks, milliseconds each time, whereas the shell's own forks are cheap. Inside the
 * script `git` is mainloop's git (as `git()` runs it); `$1`, `$2`… are `args`; its stdout is the
 * result. Use `set -e` to stop at the first failing command; a failure is reported as `git <what>`.
 */
export async function gitScript(
  cwd: string,
  what: string,
  script: string,
  args: string[] = [],
  options: { allowFailure?: boolean } = {},
): Promise<GitResult> {
  const prelude = `git() { command git ${GIT_OPTIONS.map(shellQuote).join(' ')} "$@"; }`;
  return run('/bin/sh', ['-c', `${prelude}\n${script}`, 'mainloop-git', ...args], cwd, [what], options);
}

function run(
  file: string,
  argv: string[],
  cwd: string,
  shown: string[],
  options: { allowFailure?: boolean },
): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      argv,
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
        if (error && !options.allowFailure) return reject(new GitError(shown, code, stderr || error.message));
        resolve({ code, stdout, stderr });
      },
    );
  });
}

function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
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
