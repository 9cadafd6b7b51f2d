import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { FileOwner } from './workspace.js';

/** The system user a root server runs its tasks as. */
export const TASK_USER = 'mainloop-task';

/**
 * The user tasks run as when the server runs as root (never root itself: a root process without
 * capabilities still owns every root-owned file). Created as a system user with a group of its own
 * and no home or shell when missing.
 */
export function ensureTaskUser(logger: Logger): FileOwner {
  const found = lookupUser(TASK_USER);
  if (found) return found;
  logger.info(`running as root: creating the "${TASK_USER}" system user that tasks run as`);
  try {
    execFileSync(
      'useradd',
      [
        '--system',
        '--user-group',
        '--no-create-home',
        '--home-dir',
        '/nonexistent',
        '--shell',
        '/usr/sbin/nologin',
        TASK_USER,
      ],
      { stdio: 'pipe' },
    );
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`could not create the "${TASK_USER}" system user that tasks run as: ${stderr || String(error)}`, {
      cause: error,
    });
  }
  const created = lookupUser(TASK_USER);
  if (!created) throw new Error(`useradd did not create the "${TASK_USER}" system user`);
  return created;
}

/** A user's ids from /etc/passwd, if it is there. */
export function lookupUser(name: string): FileOwner | undefined {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const [user, , uid, gid] = line.split(':');
      if (user === name && uid && gid) return { uid: Number(uid), gid: Number(gid) };
    }
  } catch {
    // no /etc/passwd
  }
  return undefined;
}

/**
 * Lets `user` pass through every directory above `target` and `target` itself (search permission,
 * o+x, never read), where it cannot yet: bubblewrap, running as that user, must reach the paths it
 * shows in the sandbox. Each change is logged.
 */
export async function letPass(target: string, user: FileOwner, logger: Logger): Promise<void> {
  for (let directory = path.resolve(target); ; directory = path.dirname(directory)) {
    const info = await stat(directory).catch(() => undefined);
    if (info?.isDirectory() && info.uid !== user.uid && (info.mode & 0o001) === 0) {
      logger.warn({ directory }, 'running as root: letting the task user pass through this directory (o+x)');
      await chmod(directory, (info.mode & 0o7777) | 0o001);
    }
    if (directory === path.dirname(directory)) return;
  }
}
