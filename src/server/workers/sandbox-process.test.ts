import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawnInSandbox, type SandboxProcess } from './sandbox-process.js';
import { NoSandbox } from './sandbox.js';

/** The output of a process run by the sandbox helper comes with backpressure, as a pipe's would. */
const ENV = { PATH: '/usr/local/bin:/usr/bin:/bin' };
const OUTPUT = 50_000_000;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'mainloop-sandbox-process-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the output of a process', () => {
  it('holds a process that writes faster than it is read, the server keeping little of it, and lets it go on as it is read', async () => {
    const done = path.join(dir, 'done');
    const child = spawnInSandbox(new NoSandbox(), '/bin/sh', ['-c', `head -c ${OUTPUT} /dev/zero; touch ${done}`], {
      cwd: dir,
      env: ENV,
    });
    // Nobody reads for a while: the process waits, and the server holds a window of its output at most.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(existsSync(done)).toBe(false);
    expect(child.stdout.readableLength).toBeLessThan(4 * 1024 * 1024);

    const [read, exit] = await Promise.all([byteCount(child.stdout), exitOf(child)]);
    expect(read).toBe(OUTPUT);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(existsSync(done)).toBe(true);
  });

  it('does not hold a process whose output its reader destroyed', async () => {
    const child = spawnInSandbox(new NoSandbox(), '/bin/sh', ['-c', `head -c ${OUTPUT} /dev/zero; echo end >&2`], {
      cwd: dir,
      env: ENV,
    });
    child.stdout.destroy();
    const stderr = new Promise<string>((resolve) => {
      let all = '';
      child.stderr.on('data', (chunk: Buffer) => (all += chunk.toString()));
      child.stderr.on('end', () => resolve(all));
    });
    expect(await exitOf(child)).toEqual({ code: 0, signal: null });
    expect(await stderr).toBe('end\n');
  });
});

function byteCount(stream: NodeJS.ReadableStream): Promise<number> {
  return new Promise((resolve) => {
    let count = 0;
    stream.on('data', (chunk: Buffer) => (count += chunk.length));
    stream.on('end', () => resolve(count));
  });
}

function exitOf(child: SandboxProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}
