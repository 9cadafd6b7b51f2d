import { execFileSync } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readTaskFile, writeTaskFile } from './task-files.js';

/** What a task leaves in its HOME for the server to trip on: links out, FIFOs, huge files, a directory swapped for a link. */

let root: string;
let home: string;
let outside: string;

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'mainloop-task-files-'));
  home = path.join(root, 'home');
  outside = path.join(root, 'outside');
  await mkdir(home);
  await mkdir(outside);
  await writeFile(path.join(outside, 'secret'), 'secret\n');
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('readTaskFile', () => {
  it('reads a regular file inside', async () => {
    await writeFile(path.join(home, 'plan.md'), '# plan\n');
    expect(await readTaskFile(path.join(home, 'plan.md'), { within: home, maxBytes: 100 })).toBe('# plan\n');
  });

  it('does not follow a link out, nor a directory link out', async () => {
    await symlink(path.join(outside, 'secret'), path.join(home, 'plan.md'));
    await symlink(outside, path.join(home, 'dir'));
    expect(await readTaskFile(path.join(home, 'plan.md'), { within: home, maxBytes: 100 })).toBeUndefined();
    expect(await readTaskFile(path.join(home, 'dir', 'secret'), { within: home, maxBytes: 100 })).toBeUndefined();
  });

  it('does not read past its limit, nor block on a FIFO', async () => {
    await writeFile(path.join(home, 'big'), 'x'.repeat(101));
    expect(await readTaskFile(path.join(home, 'big'), { within: home, maxBytes: 100 })).toBeUndefined();
    execFileSync('mkfifo', [path.join(home, 'fifo')]);
    expect(await readTaskFile(path.join(home, 'fifo'), { within: home, maxBytes: 100 })).toBeUndefined();
  });
});

describe('writeTaskFile', () => {
  it('writes a new file, never through a link left at its place', async () => {
    await symlink(path.join(outside, 'secret'), path.join(home, 'credentials.json'));
    await writeTaskFile(path.join(home, 'credentials.json'), 'token', { within: home });
    expect(await readFile(path.join(outside, 'secret'), 'utf8')).toBe('secret\n');
    expect((await lstat(path.join(home, 'credentials.json'))).isFile()).toBe(true);
    expect(await readFile(path.join(home, 'credentials.json'), 'utf8')).toBe('token');
  });

  it('replaces a directory on the way that is a link elsewhere', async () => {
    await symlink(outside, path.join(home, '.claude'));
    await writeTaskFile(path.join(home, '.claude', '.credentials.json'), 'token', { within: home });
    expect((await lstat(path.join(home, '.claude'))).isDirectory()).toBe(true);
    expect(await readFile(path.join(home, '.claude', '.credentials.json'), 'utf8')).toBe('token');
    await expect(lstat(path.join(outside, '.credentials.json'))).rejects.toThrow();
  });

  it('refuses a path outside', async () => {
    await expect(writeTaskFile(path.join(outside, 'x'), 'y', { within: home })).rejects.toThrow(/not inside/);
  });
});
