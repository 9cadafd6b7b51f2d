import { accessSync, constants } from 'node:fs';
import { chown, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { SandboxStatus } from '../../contract/providers.js';
import { EgressProxy, type EgressPolicy } from './egress-proxy.js';
import { spawnInSandbox } from './sandbox-process.js';
import {
  BubblewrapSandbox,
  NoSandbox,
  SANDBOX_PROXY_PORT,
  type NetworkAccess,
  type Sandbox,
  type SandboxSpec,
} from './sandbox.js';
import { ensureSystemUser, letUserPass } from '../lib/system-user.js';
import type { FileOwner } from './workspace.js';

/**
 * The system user a root server runs its tasks as (never root itself: a root process without
 * capabilities still owns every root-owned file), created when missing.
 */
export const TASK_USER = 'mainloop-task';

/** How to get bubblewrap, for a person (it is Linux's: elsewhere, mainloop runs tasks in a Linux machine or not at all). */
export const INSTALL_BUBBLEWRAP =
  process.platform === 'linux'
    ? 'Install bubblewrap (Debian, Ubuntu: sudo apt-get install bubblewrap; Fedora: sudo dnf install bubblewrap; ' +
      'Arch: sudo pacman -S bubblewrap) and restart mainloop, or set MAINLOOP_SANDBOX=none to run tasks unconfined.'
    : 'bubblewrap runs on Linux only: run mainloop in a Linux virtual machine or container (with bubblewrap ' +
      'installed), or set MAINLOOP_SANDBOX=none to run tasks unconfined on this machine.';

/** A run cannot be sandboxed: its sentence says why and what to do. The task fails with it (and can be retried). */
export class SandboxUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SandboxUnavailable';
  }
}

/** One run's sandbox, with its egress proxy if it has network: `close` when the run has ended. */
export interface OpenSandbox {
  sandbox: Sandbox;
  close(): Promise<void>;
}

/** What a run may see and reach; `network: undefined` is none at all. */
export interface RunSpec {
  taskId: string;
  workspace: string;
  /** a plan run: it may read its workspace, not change it */
  readOnlyWorkspace?: boolean;
  home: string;
  gitDir?: string;
  network: EgressPolicy | undefined;
}

/**
 * The sandbox in force for every task of this server (MAINLOOP_SANDBOX), docs/decisions/0019-task-sandbox.md:
 * bubblewrap, required unless the person said `none`. Without a working bubblewrap no task runs:
 * each fails with a sentence that says how to install it (tasks are never run unconfined
 * silently). What is in force is said at start-up, in GET /api/providers and on the settings page.
 */
export class Sandboxes {
  /** who tasks run as when the server runs as root: TASK_USER */
  readonly taskUser: FileOwner | undefined;
  /** why a root server has no task user (no task runs then: never as root) */
  private readonly noTaskUser: string | undefined;
  private checked: Promise<SandboxStatus> | undefined;
  private runs = 0;

  constructor(
    private readonly options: {
      mode: 'bubblewrap' | 'none';
      /** bwrap's path (found on PATH at start), undefined when it is not installed */
      bwrap: string | undefined;
      dataDir: string;
      /** more read-only paths for tasks: toolchains outside /usr and /opt (MAINLOOP_SANDBOX_READ_ONLY) */
      readOnly: string[];
      logger: Logger;
    },
  ) {
    if (process.getuid?.() !== 0 || options.mode !== 'bubblewrap' || !options.bwrap) return;
    try {
      this.taskUser = ensureSystemUser(TASK_USER, options.logger, 'tasks');
    } catch (error) {
      this.noTaskUser = (error as Error).message;
    }
  }

  /** What is in force, checked once by running bubblewrap (at start-up, in the background). */
  status(): Promise<SandboxStatus> {
    return (this.checked ??= this.check());
  }

  /** The sandbox for one run, with its egress proxy when its network is not none; throws SandboxUnavailable. */
  async open(spec: RunSpec): Promise<OpenSandbox> {
    const { mode, bwrap, dataDir, readOnly, logger } = this.options;
    if (mode === 'none') return { sandbox: new NoSandbox(), close: async () => {} };
    const status = await this.status();
    if (status.kind !== 'bubblewrap' || !bwrap) throw new SandboxUnavailable(status.summary);
    if (!isExecutable(bwrap)) {
      throw new SandboxUnavailable(`No sandbox: bubblewrap (${bwrap}) is no longer installed. ${INSTALL_BUBBLEWRAP}`);
    }
    let network: NetworkAccess = { kind: 'none' };
    let proxy: EgressProxy | undefined;
    if (spec.network) {
      proxy = await EgressProxy.open({
        socketPath: path.join(dataDir, 'run', `egress-${spec.taskId}-${++this.runs}.sock`),
        policy: spec.network,
        owner: this.taskUser,
        logger: logger.child({ taskId: spec.taskId }),
      });
      network = {
        kind: 'proxied',
        socket: proxy.socketPath,
        proxyPort: SANDBOX_PROXY_PORT,
        mirrors: spec.network.allowed.filter((route) => isLoopbackName(route.host)),
      };
    }
    const sandbox = new BubblewrapSandbox(
      bwrap,
      {
        workspace: spec.workspace,
        readOnlyWorkspace: !!spec.readOnlyWorkspace,
        home: spec.home,
        ...(spec.gitDir ? { gitDir: spec.gitDir } : {}),
        network,
      },
      { user: this.taskUser, readOnly, hidden: [dataDir] },
    );
    return { sandbox, close: async () => proxy?.close() };
  }

  /** Runs `true` in a sandbox as tasks will be run (as the task user when root), and says what came of it. */
  private async check(): Promise<SandboxStatus> {
    const { mode, bwrap, dataDir, readOnly, logger } = this.options;
    if (mode === 'none') {
      return {
        kind: 'none',
        summary:
          'MAINLOOP_SANDBOX=none: tasks run unconfined, as the server’s user, with its access to every file and the network. ' +
          'Remove the setting to run them in bubblewrap.',
      };
    }
    if (!bwrap) {
      return {
        kind: 'unavailable',
        summary: `No sandbox: bubblewrap (bwrap) is not installed, so tasks cannot run. ${INSTALL_BUBBLEWRAP}`,
        install: INSTALL_BUBBLEWRAP,
      };
    }
    if (this.noTaskUser) {
      return {
        kind: 'unavailable',
        summary:
          `No sandbox: mainloop runs as root and never runs tasks as root, but ${this.noTaskUser}. ` +
          `Create it (useradd --system --user-group ${TASK_USER}) and restart, or set MAINLOOP_SANDBOX=none to run tasks unconfined.`,
      };
    }
    // Sockets of runs that a crash left behind.
    await rm(path.join(dataDir, 'run'), { recursive: true, force: true });
    const probe = path.join(dataDir, 'sandbox-probe');
    try {
      await mkdir(probe, { recursive: true });
      if (this.taskUser) {
        await chown(probe, this.taskUser.uid, this.taskUser.gid);
        // What a run with network binds: the paths of every run (the relay's included) and the probe's.
        const socket = path.join(dataDir, 'run', 'egress.sock');
        const binds = new BubblewrapSandbox(
          bwrap,
          { ...probeSpec(probe), network: { kind: 'proxied', socket, mirrors: [], proxyPort: SANDBOX_PROXY_PORT } },
          { readOnly },
        );
        for (const source of bindSources(binds)) {
          const refused = await letUserPass(source, { ...this.taskUser, name: TASK_USER }, logger, 'what tasks see');
          if (refused)
            throw new Error(
              `${TASK_USER} cannot enter ${refused.directory} (${refused.code}): run "chmod o+x ${refused.directory}"`,
            );
        }
      }
      const sandbox = new BubblewrapSandbox(bwrap, probeSpec(probe), { user: this.taskUser, readOnly });
      const child = spawnInSandbox(sandbox, '/bin/sh', ['-c', 'exit 0'], {
        cwd: probe,
        env: { PATH: '/usr/bin:/bin' },
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => {
        child.once('error', (error) => {
          stderr ||= error.message;
          resolve(null);
        });
        child.once('exit', (exitCode) => resolve(exitCode));
      });
      await child.closed;
      if (code !== 0) {
        return {
          kind: 'unavailable',
          summary:
            `No sandbox: bubblewrap is installed but could not make a sandbox here (${stderr.trim() || `exit ${code}`}). ` +
            'It needs unprivileged user namespaces (on Ubuntu 24.04 and later, an AppArmor profile for bwrap); ' +
            'fix that, or set MAINLOOP_SANDBOX=none to run tasks unconfined.',
        };
      }
    } catch (error) {
      return {
        kind: 'unavailable',
        summary: `No sandbox: could not prepare bubblewrap (${(error as Error).message}). Set MAINLOOP_SANDBOX=none to run tasks unconfined.`,
      };
    } finally {
      await rm(probe, { recursive: true, force: true }).catch(() => {});
    }
    return {
      kind: 'bubblewrap',
      summary:
        'Tasks run in bubblewrap: only their workspace and HOME writable, no other home or host socket, no capabilities' +
        (this.taskUser ? `, as the "${TASK_USER}" user` : '') +
        '; network only through mainloop’s proxy, to what each run may reach.',
    };
  }
}

function probeSpec(dir: string): SandboxSpec {
  return { workspace: dir, home: dir, network: { kind: 'none' } };
}

/** The host paths a sandbox binds (each must be reachable by the user bubblewrap runs as). */
function bindSources(sandbox: BubblewrapSandbox): string[] {
  const { args } = sandbox.wrap('/bin/true', []);
  const sources: string[] = [];
  for (let index = 0; index < args.length; index++) {
    if (['--bind', '--ro-bind'].includes(args[index]!)) sources.push(args[index + 1]!);
  }
  return sources;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function isLoopbackName(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}
