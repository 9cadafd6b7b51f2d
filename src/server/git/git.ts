import { HelperProcess } from '../lib/helper-process.js';

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
 * What a git call over a task's work tree adds (docs/decisions/0019-task-sandbox.md). The task's git
 * directory is mainloop's and out of the task's reach, so its config is mainloop's; these switch off,
 * whatever any config says, everything in git that runs a program or follows the work tree
 * elsewhere: the file-system monitor, hooks, pagers and editors, attribute and exclude files of the
 * machine, external diff drivers, submodules (git would run itself inside a nested repository the
 * task made, reading that repository's config), credential helpers, signing, and every transport but
 * local paths. The work tree belongs to the task's user when mainloop runs as root: `safe.directory`.
 */
const TASK_TREE_OPTIONS = [
  'core.fsmonitor=false',
  'core.untrackedCache=false',
  'core.attributesFile=/dev/null',
  'core.excludesFile=/dev/null',
  'core.pager=cat',
  'core.editor=false',
  'core.askPass=false',
  'core.sshCommand=false',
  'diff.external=',
  'diff.ignoreSubmodules=all',
  'status.submoduleSummary=false',
  'submodule.recurse=false',
  'fetch.recurseSubmodules=false',
  'push.recurseSubmodules=no',
  'credential.helper=',
  'commit.gpgSign=false',
  'tag.gpgSign=false',
  'protocol.allow=never',
  'protocol.file.allow=always',
  'safe.directory=*',
].flatMap((setting) => ['-c', setting]);

/** No config of the machine's or the server user's, no attributes of the machine's, no replacement objects. */
const TASK_TREE_ENV = {
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_ATTR_NOSYSTEM: '1',
  GIT_NO_REPLACE_OBJECTS: '1',
  GIT_PROTOCOL_FROM_USER: '0',
};

/**
 * Runs git with a clean environment (no GIT_DIR or hooks path inherited from whoever started
 * the server, no pager, no prompts) and mainloop's identity for the commits it makes. Only for
 * repositories the person trusts (a project's own); a task's goes through `taskGit`.
 */
export async function git(cwd: string, args: string[], options: { allowFailure?: boolean } = {}): Promise<GitResult> {
  return run('git', [...GIT_OPTIONS, ...args], cwd, args, options);
}

/**
 * A task's repository: the work tree is the task's (it writes anything there, `.git` included);
 * the git directory is mainloop's, outside the workspace, and only ever read-only in the sandbox.
 */
export interface TaskRepository {
  gitDir: string;
  workTree: string;
}

/** git over a task's repository: its own git directory and work tree, named, never discovered, with TASK_TREE_OPTIONS. */
export async function taskGit(
  repo: TaskRepository,
  args: string[],
  options: { allowFailure?: boolean } = {},
): Promise<GitResult> {
  return run('git', [...taskGitArgs(repo), ...args], repo.workTree, args, { ...options, env: TASK_TREE_ENV });
}

/** gitScript over a task's repository: inside the script, `git` is `taskGit`. */
export async function taskGitScript(
  repo: TaskRepository,
  what: string,
  script: string,
  args: string[] = [],
  options: { allowFailure?: boolean } = {},
): Promise<GitResult> {
  return runScript(repo.workTree, what, taskGitArgs(repo), script, args, { ...options, env: TASK_TREE_ENV });
}

function taskGitArgs(repo: TaskRepository): string[] {
  return [...GIT_OPTIONS, ...TASK_TREE_OPTIONS, `--git-dir=${repo.gitDir}`, `--work-tree=${repo.workTree}`];
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
  return runScript(cwd, what, GIT_OPTIONS, script, args, options);
}

function runScript(
  cwd: string,
  what: string,
  gitArgs: string[],
  script: string,
  args: string[],
  options: { allowFailure?: boolean; env?: Record<string, string> },
): Promise<GitResult> {
  const prelude = `git() { command git ${gitArgs.map(shellQuote).join(' ')} "$@"; }`;
  return run('/bin/sh', ['-c', `${prelude}\n${script}`, 'mainloop-git', ...args], cwd, [what], options);
}

function run(
  file: string,
  argv: string[],
  cwd: string,
  shown: string[],
  options: { allowFailure?: boolean; env?: Record<string, string> },
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
          ...options.env,
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
// What git writes in a task's git directory stays readable to the task's user (it reads it in the sandbox).
process.umask(0o022);
process.on('message', ({ id, file, args, options }) => {
  // A cwd that is a file throws here rather than calling back: the call fails, not the helper
  // (and with it every other git call in flight).
  try {
    execFile(file, args, options, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      process.send({ id, failed: !!error, code, message: error ? error.message : '', stdout, stderr });
    });
  } catch (error) {
    process.send({ id, failed: true, code: null, message: error.message, stdout: '', stderr: '' });
  }
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

/** The trimmed stdout of a git command over a task's repository that must succeed. */
export async function taskGitOut(repo: TaskRepository, args: string[]): Promise<string> {
  return (await taskGit(repo, args)).stdout.trim();
}
