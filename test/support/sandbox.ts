import { execFileSync } from 'node:child_process';
import pino from 'pino';
import { findBubblewrap, Sandboxes, type EgressRoute, type OpenSandbox } from '../../src/server/workers/index.js';

/** bubblewrap's path on this machine, if it is installed (the sandbox's tests skip without it). */
export const BWRAP = findBubblewrap();

/**
 * A bubblewrap sandbox for one run, as the workers open it: under `dataDir` (hidden from the run),
 * with `workspace` and `home` given to the task user when the tests run as root, and network only
 * to `allowed` (and the internet with `open`), through the egress proxy. `close()` when done.
 */
export async function openTestSandbox(options: {
  dataDir: string;
  workspace: string;
  home: string;
  gitDir?: string;
  allowed?: EgressRoute[];
  open?: boolean;
  readOnlyWorkspace?: boolean;
}): Promise<OpenSandbox & { sandboxes: Sandboxes }> {
  if (!BWRAP) throw new Error('bubblewrap is not installed');
  const sandboxes = new Sandboxes({
    mode: 'bubblewrap',
    bwrap: BWRAP,
    dataDir: options.dataDir,
    readOnly: [],
    logger: pino({ level: 'silent' }),
  });
  const user = sandboxes.taskUser;
  if (user) execFileSync('chown', ['-R', `${user.uid}:${user.gid}`, options.workspace, options.home]);
  const { allowed = [], open = false } = options;
  const opened = await sandboxes.open({
    taskId: 'test',
    workspace: options.workspace,
    readOnlyWorkspace: !!options.readOnlyWorkspace,
    home: options.home,
    ...(options.gitDir ? { gitDir: options.gitDir } : {}),
    network: allowed.length || open ? { allowed, open } : undefined,
  });
  return { ...opened, sandboxes };
}
