import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/server/db/embedded-postgres.js';
import { buildServer, poll, postmastersFor, ROOT } from './helpers/processes.js';

/**
 * `npm start` in a terminal, as a person runs it: readable log lines, one summary of what runs at
 * the end of start-up, and Ctrl-C (SIGINT to the terminal's whole foreground process group)
 * stopping everything in order — without a warning or a stack trace. The terminal is a real
 * pseudo-terminal, made by util-linux's `script`.
 */
const SCRIPT = '/usr/bin/script';
const directories: string[] = [];
afterAll(async () => {
  for (const directory of directories) await rm(directory, { recursive: true, force: true });
});

describe.skipIf(!existsSync(SCRIPT))('in a terminal', () => {
  it('logs readable lines, ends start-up with a summary, and stops quietly on Ctrl-C', async () => {
    await buildServer();
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mainloop-terminal-'));
    directories.push(dataDir);
    const port = await freePort();
    const terminal = spawn(SCRIPT, ['-qfec', `exec ${process.execPath} dist/server/main.js`, '/dev/null'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: dataDir,
        MAINLOOP_DATA_DIR: dataDir,
        PORT: String(port),
        MAINLOOP_MODEL_PROVIDER: 'none',
        MAINLOOP_API_TOKEN: 'terminal-test-token-0123456789',
        NO_COLOR: '1',
      },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let output = '';
    terminal.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => terminal.once('exit', (code) => resolve(code)));
    try {
      await poll('the summary', 90_000, () => (/^ {4}push {5}/m.test(output) ? true : undefined));
      expect(output).toMatch(new RegExp(`mainloop \\S+ is running at http://127\\.0\\.0\\.1:${port}`));
      for (const part of ['data', 'database', 'model', 'runtimes', 'sandbox', 'push'])
        expect(output).toMatch(new RegExp(`^ {4}${part}\\s+\\S`, 'm'));
      // Log lines for a person, not JSON.
      expect(output).toMatch(/^\d\d:\d\d:\d\d info {2}embedded postgres is ready/m);
      expect(output).not.toMatch(/^\{"level"/m);

      // Ctrl-C: the terminal's driver sends SIGINT to the foreground group (the ^C character).
      terminal.stdin!.write('\u0003');
      expect(await exited).toBe(0);
      expect(output).toMatch(/info {2}shutting down/);
      expect(output).toMatch(/info {2}stopped/);
      expect(output).not.toMatch(/ (warn|error|fatal) /);
      expect(output).not.toMatch(/^\s+at /m); // no stack trace
      expect(postmastersFor(dataDir)).toEqual([]);
    } finally {
      if (terminal.exitCode === null) terminal.kill('SIGKILL');
    }
  }, 180_000);
});
