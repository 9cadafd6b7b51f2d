import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';

/** A user's ids. */
export interface SystemUser {
  uid: number;
  gid: number;
}

/** A user's ids: from /etc/passwd (no process started), else from id(1); undefined when there is no such user. */
export function lookupUser(name: string): SystemUser | undefined {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const [user, , uid, gid] = line.split(':');
      if (user === name && uid && gid) return { uid: Number(uid), gid: Number(gid) };
    }
  } catch {
    // no /etc/passwd: ask id(1)
  }
  try {
    const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    return undefined;
  }
}

/**
 * A system user (and a group of its name) that a root mainloop runs something as — Postgres, a
 * task — created when missing, with no home and no shell. Throws with useradd's reason.
 */
export function ensureSystemUser(name: string, logger: Logger, runs: string): SystemUser {
  const found = lookupUser(name);
  if (found) return found;
  logger.info(`running as root: creating the "${name}" system user to run ${runs}`);
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
        name,
      ],
      { stdio: 'pipe' },
    );
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`could not create the "${name}" system user: ${stderr || String(error)}`, { cause: error });
  }
  const created = lookupUser(name);
  if (!created) throw new Error(`useradd did not create the "${name}" system user`);
  return created;
}

/**
 * Lets `user` pass through `directory` and every directory above it: adds the search permission
 * (`o+x`, never read) where it is missing, saying so in the log (`reach`: what it is for). Answers
 * the first directory whose mode could not change (a read-only mount), with the error's code.
 */
export async function letUserPass(
  directory: string,
  user: SystemUser & { name: string },
  logger: Logger,
  reach: string,
): Promise<{ directory: string; code: string } | undefined> {
  for (let current = path.resolve(directory); ; current = path.dirname(current)) {
    // (a path not made yet: the directories above it still count)
    const info = await stat(current).catch(() => undefined);
    if (info && (info.mode & 0o001) === 0 && info.uid !== user.uid) {
      logger.warn(
        { directory: current },
        `running as root: letting the ${user.name} user pass through this directory (o+x) to reach ${reach}`,
      );
      try {
        await chmod(current, (info.mode & 0o7777) | 0o001);
      } catch (error) {
        return { directory: current, code: (error as NodeJS.ErrnoException).code ?? String(error) };
      }
    }
    if (current === path.dirname(current)) return undefined;
  }
}
