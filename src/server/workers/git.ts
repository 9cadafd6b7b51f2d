import { HelperProcess } from './helper-process.js';

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
  return helper
    .run({
      file,
      args: argv,
      options: {
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
    })
    .then(({ failed, code, message, stdout, stderr }) => {
      if (failed && !options.allowFailure) throw new GitError(shown, code, stderr || message);
      return { code, stdout, stderr };
    });
}

interface HelperRequest {
  file: string;
  args: string[];
  options: { cwd: string; env: Record<string, string>; maxBuffer: number };
}

interface HelperReply {
  failed: boolean;
  code: number | null;
  message: string;
  stdout: string;
  stderr: string;
}

/** The helper (see HelperProcess): `execFile` for each request, the reply by IPC. */
const HELPER_SOURCE = `
const { execFile } = require('node:child_process');
process.on('message', ({ id, file, args, options }) => {
  execFile(file, args, options, (error, stdout, stderr) => {
    const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
    process.send({ id, failed: !!error, code, message: error ? error.message : '', stdout, stderr });
  });
});
process.on('disconnect', () => process.exit(0));
`;

/** Git runs in a helper process (HelperProcess). It keeps no state: one that dies fails the calls in flight. */
class GitHelper {
  private nextId = 0;
  private readonly pending = new Map<number, (reply: HelperReply) => void>();
  private readonly process = new HelperProcess<HelperReply & { id: number }>({
    title: 'mainloop-git',
    source: HELPER_SOURCE,
    onMessage: (reply) => this.settle(reply.id, reply),
    onExit: (why) => {
      for (const id of [...this.pending.keys()]) this.settle(id, failure(`the git helper ${why}`));
    },
  });

  run(request: HelperRequest): Promise<HelperReply> {
    const id = ++this.nextId;
    this.process.hold();
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.process
        .send({ id, ...request })
        .catch((error: Error) => this.settle(id, failure(`could not reach the git helper: ${error.message}`)));
    });
  }

  private settle(id: number, reply: HelperReply): void {
    const resolve = this.pending.get(id);
    if (!resolve) return;
    this.pending.delete(id);
    this.process.release();
    resolve(reply);
  }
}

function failure(message: string): HelperReply {
  return { failed: true, code: null, message, stdout: '', stderr: '' };
}

const helper = new GitHelper();

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
