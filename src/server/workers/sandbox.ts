import { accessSync, constants, existsSync, lstatSync, readFileSync, realpathSync } from 'node:fs';
import { chown } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EgressRoute } from './egress-proxy.js';
import type { FileOwner } from './workspace.js';

/**
 * Where a task's processes run (docs/decisions/0019-task-sandbox.md). With bubblewrap, a process
 * sees only what the task needs: the system's programs and libraries (/usr, /etc, the toolchains
 * and the agent CLIs, read-only), its workspace and its HOME (writable), its git directory
 * (read-only), a private /tmp, /proc of its own processes and a minimal /dev — no other home, no
 * data directory, no host socket. It runs in user, pid, ipc, uts and network namespaces of its
 * own, with no capabilities, as an unprivileged user (when the server runs as root: the task
 * user, see Sandboxes). Its network is either none, or a loopback whose only way out is mainloop's
 * egress proxy (egress-proxy.ts), which lets through what the run's policy allows.
 */
export interface Sandbox {
  readonly kind: 'bubblewrap' | 'none';
  /** the user its processes run as, when not the server's own (root's tasks run as the task user) */
  readonly user: FileOwner | undefined;
  /** the command line that runs `command args` inside the sandbox */
  wrap(command: string, args: string[]): { command: string; args: string[] };
  /** Gives files the server made in the task's HOME to the user the task runs as (nothing without one). */
  adopt(...files: string[]): Promise<void>;
}

/** What one run may see and reach. */
export interface SandboxSpec {
  /** the task's workspace: the working directory, writable unless `readOnlyWorkspace` (a plan run) */
  workspace: string;
  readOnlyWorkspace?: boolean;
  /** the task's HOME: writable */
  home: string;
  /** the workspace's git directory (mainloop's): read-only */
  gitDir?: string;
  network: NetworkAccess;
}

/**
 * `none`: no network at all (a loopback of its own). `proxied`: HTTP(S) through mainloop's egress
 * proxy only, reached at `proxyPort` on the sandbox's own loopback (HTTPS_PROXY); `mirrors` are
 * host:port pairs on the server's loopback (a model API the person configured there) that the
 * sandbox sees at the same address on its own.
 */
export type NetworkAccess =
  { kind: 'none' } | { kind: 'proxied'; socket: string; mirrors: EgressRoute[]; proxyPort: number };

/** The port the egress proxy has on a sandbox's own loopback (HTTPS_PROXY=http://127.0.0.1:<it>). */
export const SANDBOX_PROXY_PORT = 3128;
/** Where the egress proxy's socket is inside the sandbox. */
const SANDBOX_PROXY_SOCKET = '/run/mainloop/egress.sock';

export class NoSandbox implements Sandbox {
  readonly kind = 'none';
  readonly user = undefined;
  wrap(command: string, args: string[]) {
    return { command, args };
  }
  async adopt(): Promise<void> {}
}

export class BubblewrapSandbox implements Sandbox {
  readonly kind = 'bubblewrap';
  constructor(
    private readonly bwrap: string,
    private readonly spec: SandboxSpec,
    private readonly options: {
      user?: FileOwner | undefined;
      /** more read-only paths: toolchains outside the system's directories */
      readOnly?: string[];
      /** never shown, even where a read-only path holds them (mainloop's data directory) */
      hidden?: string[];
    } = {},
  ) {}

  get user(): FileOwner | undefined {
    return this.options.user;
  }

  async adopt(...files: string[]): Promise<void> {
    const { user } = this.options;
    if (user) for (const file of files) await chown(file, user.uid, user.gid);
  }

  wrap(command: string, args: string[]) {
    const { workspace, home, gitDir, network, readOnlyWorkspace } = this.spec;
    const readOnly = readOnlyRoots(this.options.readOnly ?? []);
    // A hidden path under a read-only one (a data directory inside the installation) is covered again.
    const hidden = (this.options.hidden ?? []).filter((dir) => readOnly.some((root) => isWithin(dir, root)));
    const bwrapArgs = [
      '--unshare-user',
      '--unshare-pid',
      '--unshare-ipc',
      '--unshare-uts',
      '--unshare-net',
      '--unshare-cgroup-try',
      // No namespaces of its own inside (each is kernel surface), and no capability at all.
      '--disable-userns',
      '--cap-drop',
      'ALL',
      '--die-with-parent',
      '--new-session',
      '--hostname',
      'mainloop-task',
      // The file systems of its own first: what is bound after them may lie inside (a path under /tmp).
      '--proc',
      '/proc',
      '--dev',
      '/dev',
      '--tmpfs',
      '/tmp',
      '--tmpfs',
      '/dev/shm',
      '--tmpfs',
      '/run',
      ...systemMounts(),
      ...readOnly.flatMap((dir) => ['--ro-bind', dir, dir]),
      ...hidden.flatMap((dir) => ['--tmpfs', dir]),
      readOnlyWorkspace ? '--ro-bind' : '--bind',
      workspace,
      workspace,
      '--bind',
      home,
      home,
      ...(gitDir ? ['--ro-bind', gitDir, gitDir] : []),
    ];
    if (network.kind === 'none') {
      bwrapArgs.push('--chdir', workspace, '--', command, ...args);
      return { command: this.bwrap, args: bwrapArgs };
    }
    const proxy = `http://127.0.0.1:${network.proxyPort}`;
    bwrapArgs.push(
      '--ro-bind',
      network.socket,
      SANDBOX_PROXY_SOCKET,
      '--ro-bind',
      RELAY,
      RELAY,
      ...['HTTPS_PROXY', 'HTTP_PROXY', 'https_proxy', 'http_proxy', 'ALL_PROXY', 'all_proxy'].flatMap((name) => [
        '--setenv',
        name,
        proxy,
      ]),
      ...['NO_PROXY', 'no_proxy'].flatMap((name) => ['--setenv', name, 'localhost,127.0.0.1,::1']),
      '--chdir',
      workspace,
      '--',
      process.execPath,
      RELAY,
      SANDBOX_PROXY_SOCKET,
      String(network.proxyPort),
      ...network.mirrors.map(({ host, port }) => `${host}:${port}`),
      '--',
      command,
      ...args,
    );
    return { command: this.bwrap, args: bwrapArgs };
  }
}

/**
 * The system's programs and libraries, read-only: /usr and /etc, the top-level links of a merged
 * /usr (or the directories, where they are real), /opt and /nix where they exist.
 */
function systemMounts(): string[] {
  const mounts = ['--ro-bind', '/usr', '/usr', '--ro-bind', '/etc', '/etc'];
  for (const dir of ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32']) {
    const info = lstatSync(dir, { throwIfNoEntry: false });
    if (info?.isSymbolicLink()) mounts.push('--symlink', readlinkOf(dir), dir);
    else if (info?.isDirectory()) mounts.push('--ro-bind', dir, dir);
  }
  for (const dir of ['/opt', '/nix']) if (existsSync(dir)) mounts.push('--ro-bind', dir, dir);
  return mounts;
}

function readlinkOf(link: string): string {
  return path.relative(path.dirname(link), realpathSync(link)) || '.';
}

/**
 * The read-only paths besides the system's: Node (the relay and the agent CLIs run on it), mainloop's
 * node_modules (the agent CLIs it ships), the directories on PATH, and those configured; each once,
 * none inside another or inside /usr, /etc, /opt.
 */
function readOnlyRoots(extra: string[]): string[] {
  const candidates = [
    path.dirname(path.dirname(realpathSync(process.execPath))),
    ...(APP_ROOT ? [path.join(APP_ROOT, 'node_modules')] : []),
    ...(process.env.PATH ?? '').split(path.delimiter),
    ...extra,
  ];
  const system = ['/usr', '/etc', '/opt', '/nix', '/bin', '/sbin', '/lib', '/lib64'];
  const roots: string[] = [];
  for (const candidate of candidates) {
    if (!path.isAbsolute(candidate) || !existsSync(candidate)) continue;
    const real = realpathSync(candidate);
    if (real === '/' || system.some((dir) => isWithin(real, dir))) continue;
    if (roots.some((root) => isWithin(real, root))) continue;
    for (let index = roots.length - 1; index >= 0; index--) if (isWithin(roots[index]!, real)) roots.splice(index, 1);
    roots.push(real);
  }
  return roots;
}

export function isWithin(child: string, parent: string): boolean {
  const relative = path.relative(parent, child);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
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

/**
 * The egress relay (egress-relay.mjs), run by Node inside a sandbox with network: it listens on the
 * sandbox's loopback and carries each connection to the egress proxy's socket, then runs the command.
 */
const RELAY = path.join(APP_ROOT ?? '.', 'src/server/workers/egress-relay.mjs');

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
