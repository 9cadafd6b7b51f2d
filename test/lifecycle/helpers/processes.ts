import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../../src/server/db/embedded-postgres.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/**
 * A child Node process running a TypeScript entry point through tsx (no build needed) or a built
 * `.js` one as it is, with its output kept for assertions and for the failure message.
 */
export class ChildNode {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** in a process group of its own */
  readonly detached: boolean;

  constructor(entry: string, options: { env: Record<string, string>; args?: string[]; detached?: boolean }) {
    this.detached = options.detached ?? false;
    const loader = entry.endsWith('.ts') ? ['--import', 'tsx'] : [];
    this.child = spawn(process.execPath, [...loader, entry, ...(options.args ?? [])], {
      cwd: ROOT,
      // A clean environment: only what the test chooses (no DATABASE_URL or API keys from the shell).
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: this.detached,
    });
    for (const stream of [this.child.stdout!, this.child.stderr!]) {
      let partial = '';
      stream.setEncoding('utf8').on('data', (chunk: string) => {
        const parts = (partial + chunk).split('\n');
        partial = parts.pop() ?? '';
        this.lines.push(...parts);
      });
    }
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** The JSON log lines (pino) the process wrote so far. */
  logs(): Array<Record<string, unknown> & { msg?: string }> {
    return this.lines.flatMap((line) => {
      if (!line.startsWith('{')) return [];
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  }

  /** Resolves with the first JSON line that matches; rejects if the process exits first or time runs out. */
  async waitForLog(
    match: (line: Record<string, unknown>) => boolean,
    timeoutMs: number,
  ): Promise<Record<string, unknown>> {
    return poll(`a log line from pid ${this.pid}`, timeoutMs, async () => {
      this.assertRunning();
      return this.logs().find(match);
    });
  }

  assertRunning(): void {
    if (this.child.exitCode !== null || this.child.signalCode !== null) {
      throw new Error(
        `process ${this.pid} exited (${this.child.exitCode ?? this.child.signalCode}):\n${this.output()}`,
      );
    }
  }

  async waitForExit(timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const timer = new Promise<never>((_, reject) =>
      setTimeout(
        () => reject(new Error(`process ${this.pid} did not exit within ${timeoutMs} ms:\n${this.output()}`)),
        timeoutMs,
      ).unref(),
    );
    return Promise.race([this.exited, timer]);
  }

  /** SIGKILL the whole process group (needs `detached: true`), or the process alone. */
  async kill(options: { group?: boolean } = {}): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    process.kill(options.group ? -this.pid : this.pid, 'SIGKILL');
    await this.exited;
  }

  output(): string {
    return this.lines.slice(-60).join('\n');
  }
}

/** Calls `check` until it returns something other than undefined. */
export async function poll<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined> | T | undefined,
  everyMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      if (error instanceof Error && /exited \(/.test(error.message)) throw error;
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Every running postgres server process (postmaster) whose data directory is `<dataDir>/postgres`. */
export function postmastersFor(dataDir: string): number[] {
  const cluster = path.join(dataDir, 'postgres');
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      const dataFlag = argv.indexOf('-D');
      if (path.basename(argv[0] ?? '') === 'postgres' && dataFlag >= 0 && argv[dataFlag + 1] === cluster)
        pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** The pid in `<dataDir>/postgres/postmaster.pid`, if the file exists. */
export function postmasterPidFile(dataDir: string): number | undefined {
  try {
    const pid = Number.parseInt(
      readFileSync(path.join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0] ?? '',
      10,
    );
    return Number.isInteger(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

export interface BuiltServer {
  node: ChildNode;
  url: string;
  dataDir: string;
  /** Kills it (its process group, when detached) and any Postgres left on its data directory, and removes that. */
  stop(): Promise<void>;
}

/**
 * What `npm start` runs, the esbuild bundle (dist/server/main.js: `npm test` has built it; run alone,
 * this rebuilds it when stale), on a fresh data directory with MAINLOOP_API_TOKEN `token`, once
 * `/api/health` answers 200.
 */
export async function startBuiltServer(options: {
  token: string;
  /** in a process group of its own: `stop` kills the group (Postgres and task processes too) */
  detached?: boolean;
  healthyWithinMs?: number;
}): Promise<BuiltServer> {
  await buildServer();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mainloop-built-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const node = new ChildNode('dist/server/main.js', {
    env: {
      MAINLOOP_DATA_DIR: dataDir,
      PORT: String(port),
      MAINLOOP_API_TOKEN: options.token,
      MAINLOOP_MODEL_PROVIDER: 'none',
      LOG_LEVEL: 'info',
    },
    detached: options.detached,
  });
  const stop = async () => {
    await node.kill({ group: node.detached }).catch(() => {});
    for (const pid of postmastersFor(dataDir)) process.kill(pid, 'SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    await poll(`${url} to be healthy`, options.healthyWithinMs ?? 60_000, async () => {
      node.assertRunning();
      return (await fetch(`${url}/api/health`)).ok ? true : undefined;
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { node, url, dataDir, stop };
}

/**
 * `node scripts/build.mjs --server` (which does nothing when the bundle is fresh), one test file at a
 * time: two builds at once would each remove the other's output. A lock left by a killed run is
 * taken over after a while.
 */
export async function buildServer(): Promise<void> {
  const lock = path.join(ROOT, 'dist', '.server-build.lock');
  mkdirSync(path.dirname(lock), { recursive: true });
  await poll(
    'the server build lock',
    300_000,
    () => {
      try {
        closeSync(openSync(lock, 'wx'));
        return true;
      } catch {
        const heldFor = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
        if (heldFor > 180_000) rmSync(lock, { force: true });
        return undefined;
      }
    },
    100,
  );
  try {
    const build = spawnSync(process.execPath, ['scripts/build.mjs', '--server'], { cwd: ROOT, encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`the server build failed:\n${build.stderr}`);
  } finally {
    rmSync(lock, { force: true });
  }
}
