import { constants } from 'node:fs';
import { lstat, mkdir, open, realpath, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isWithin } from './sandbox.js';

/**
 * Files in a task's workspace or HOME, read and written by the server. The task writes anything
 * there between the server's visits — a symbolic link to /etc/shadow in place of a file, a FIFO, a
 * file of 10 GB, a directory replaced by a link elsewhere — so the server never follows a link out,
 * never reads more than it asked for, and never writes through a path it did not check
 * (docs/decisions/0019-task-sandbox.md). No process of the task's runs while the server does this
 * (between runs, or before a run's sandbox starts), so what is checked stays as checked.
 */

/** The text of a regular file inside `within` (its real path, links resolved, inside), at most `maxBytes`; undefined otherwise. */
export async function readTaskFile(
  file: string,
  options: { within: string; maxBytes: number },
): Promise<string | undefined> {
  try {
    const real = await realpath(file);
    if (!isWithin(real, await realpath(options.within))) return undefined;
    const handle = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      const info = await handle.stat();
      if (!info.isFile() || info.size > options.maxBytes) return undefined;
      const buffer = Buffer.alloc(info.size);
      const { bytesRead } = await handle.read(buffer, 0, info.size, 0);
      return buffer.subarray(0, bytesRead).toString('utf8');
    } finally {
      await handle.close();
    }
  } catch {
    return undefined;
  }
}

/**
 * Writes `content` as a new regular file at `file` inside `within`: each directory on the way is a
 * real directory (a link or a file there is removed and a directory made), whatever was at `file`
 * is removed, and the file is created exclusively (never through a link).
 */
export async function writeTaskFile(
  file: string,
  content: string,
  options: { within: string; mode?: number },
): Promise<void> {
  const relative = path.relative(options.within, file);
  if (!relative || relative.startsWith('..') || path.isAbsolute(relative)) {
    throw new Error(`${file} is not inside ${options.within}`);
  }
  let directory = options.within;
  for (const part of path
    .dirname(relative)
    .split(path.sep)
    .filter((each) => each && each !== '.')) {
    directory = path.join(directory, part);
    const info = await lstat(directory).catch(() => undefined);
    if (info?.isDirectory()) continue;
    if (info) await rm(directory, { recursive: true, force: true });
    await mkdir(directory, { mode: 0o700 });
  }
  await rm(file, { recursive: true, force: true });
  await writeFile(file, content, { mode: options.mode ?? 0o600, flag: 'wx' });
}
