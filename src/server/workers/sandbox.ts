import { accessSync, constants, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where an agent's processes run. With bubblewrap (`bwrap`, Debian's `bubblewrap`) present, a
 * process sees the machine read-only, its workspace and its own home read-write, a private /tmp,
 * and not the data directory at all (the database, other tasks' workspaces, the server's
 * files). Without bubblewrap it runs as a plain child with the scrubbed environment only.
 */
export interface Sandbox {
  readonly kind: 'bubblewrap' | 'none';
  /** the command line that runs `command args` inside the sandbox */
  wrap(command: string, args: string[]): { command: string; args: string[] };
}

export interface SandboxPaths {
  /** the task's workspace: writable */
  workspace: string;
  /** the task's HOME: writable */
  home: string;
  /** more writable paths */
  writable?: string[];
  /** paths to keep visible read-only even where a hidden path or the private /tmp covers them (the project's repository) */
  readOnly?: string[];
  /** hidden: mainloop's data directory (the workspace and home inside it stay visible) */
  hidden: string[];
}

export class NoSandbox implements Sandbox {
  readonly kind = 'none';
  wrap(command: string, args: string[]) {
    return { command, args };
  }
}

export class BubblewrapSandbox implements Sandbox {
  readonly kind = 'bubblewrap';
  constructor(
    private readonly bwrap: string,
    private readonly paths: SandboxPaths,
  ) {}

  wrap(command: string, args: string[]) {
    const { workspace, home, writable = [], readOnly = [], hidden } = this.paths;
    const bwrapArgs = [
      '--ro-bind',
      '/',
      '/',
      '--dev',
      '/dev',
      '--proc',
      '/proc',
      '--tmpfs',
      '/tmp',
      // Hidden first, then the writable paths inside them are bound back in.
      ...hidden.flatMap((dir) => ['--tmpfs', dir]),
      // mainloop's own installation stays readable (the agents' CLIs live in its node_modules), even under /tmp.
      ...[...(APP_ROOT ? [APP_ROOT] : []), ...readOnly].flatMap((dir) => ['--ro-bind', dir, dir]),
      ...[workspace, home, ...writable].flatMap((dir) => ['--bind', dir, dir]),
      '--unshare-pid',
      '--unshare-ipc',
      '--die-with-parent',
      '--new-session',
      '--chdir',
      workspace,
      '--',
      command,
      ...args,
    ];
    return { command: this.bwrap, args: bwrapArgs };
  }
}

/** The sandbox for one task: bubblewrap when the machine has it (and MAINLOOP_SANDBOX is not `none`). */
export function sandboxFor(
  paths: SandboxPaths,
  options: { mode: 'auto' | 'none'; bwrap?: string | undefined },
): Sandbox {
  if (options.mode === 'none' || !options.bwrap) return new NoSandbox();
  return new BubblewrapSandbox(options.bwrap, paths);
}

/** The folder mainloop is installed in (its package.json), whether it runs from source or from dist. */
const APP_ROOT = findAppRoot(path.dirname(fileURLToPath(import.meta.url)));

function findAppRoot(from: string): string | undefined {
  for (let dir = from; ; dir = path.dirname(dir)) {
    try {
      const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (manifest.name === 'mainloop') return dir;
    } catch {
      // not here
    }
    if (path.dirname(dir) === dir) return undefined;
  }
}

/** The path of `bwrap` on PATH, or undefined. */
export function findBubblewrap(searchPath = process.env.PATH ?? ''): string | undefined {
  for (const dir of searchPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, 'bwrap');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}
