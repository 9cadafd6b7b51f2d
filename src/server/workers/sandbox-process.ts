import { EventEmitter } from 'node:events';
import { Readable, Writable } from 'node:stream';
import { HelperProcess } from '../lib/helper-process.js';
import type { Sandbox } from './sandbox.js';

/** How long a process tree has after SIGTERM before it gets SIGKILL. */
export const KILL_GRACE_MS = 2000;

/**
 * Spawns `command args` through the sandbox in a process group of its own, so that aborting
 * `signal` ends the whole tree (SIGTERM to the group, SIGKILL after a grace period), whatever
 * the process started. stdin is closed unless asked for.
 *
 * The process is started by the sandbox helper (`mainloop-sandbox`), not forked from the server
 * (see HelperProcess); its output and exit come back by IPC. When the server dies the helper
 * kills every process group it started; when the helper dies the server does, and the runs fail.
 */
export function spawnInSandbox(
  sandbox: Sandbox,
  command: string,
  args: string[],
  options: { cwd: string; env: Record<string, string>; signal?: AbortSignal; stdin?: boolean },
): SandboxProcess {
  const wrapped = sandbox.wrap(command, args);
  const child = sandboxHelper.spawn({
    command: wrapped.command,
    args: wrapped.args,
    cwd: options.cwd,
    env: options.env,
    stdin: !!options.stdin,
    ...(sandbox.user ? { uid: sandbox.user.uid, gid: sandbox.user.gid } : {}),
  });
  const { signal } = options;
  if (signal) {
    const stop = () => killTree(child);
    if (signal.aborted) stop();
    else {
      signal.addEventListener('abort', stop, { once: true });
      void child.ended.then(() => signal.removeEventListener('abort', stop));
    }
  }
  return child;
}

/** SIGTERM to the child's process group, SIGKILL after `graceMs` if it is still there (done by the helper). */
export function killTree(child: SandboxProcess, graceMs = KILL_GRACE_MS): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.killed = true;
  sandboxHelper.command(child, { type: 'kill-tree', graceMs });
}

/**
 * A process started by the sandbox helper, as the runtimes use a ChildProcess (and as the Agent
 * SDK's SpawnedProcess): its streams, `exit` and `error` events, `kill`. `pid` is known once the
 * helper has started it; `ended` settles at its exit or when it could not start.
 *
 * Its output comes with backpressure, as a pipe's would: the helper sends at most OUTPUT_WINDOW
 * bytes of a stream that were not yet acknowledged, and stops reading the process's pipe until
 * they are; a chunk is acknowledged once its reader took it (the stream's buffer is below its
 * high-water mark). A process writing faster than its reader reads waits, and the server holds
 * at most a window and a buffer of it.
 */
export class SandboxProcess extends EventEmitter {
  pid: number | undefined;
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  killed = false;
  /** What the helper sent of each stream that its reader has not taken yet: acknowledged once it has. */
  private readonly owed = { stdout: 0, stderr: 0 };
  readonly stdout = this.output('stdout');
  readonly stderr = this.output('stderr');
  readonly stdin: Writable | null;
  readonly ended: Promise<void>;
  /** @internal settles once it has ended and both its streams have (nothing more comes from the helper) */
  readonly closed: Promise<void>;
  private end!: () => void;
  /** the streams not ended yet, with what to call at their end */
  private readonly streamEnds = new Map<Readable, () => void>();

  constructor(
    readonly id: number,
    stdin: boolean,
    private readonly helper: SandboxHelper,
  ) {
    super();
    this.ended = new Promise((resolve) => (this.end = resolve));
    const streamEnd = (stream: Readable) => new Promise<void>((resolve) => this.streamEnds.set(stream, resolve));
    this.closed = Promise.all([this.ended, streamEnd(this.stdout), streamEnd(this.stderr)]).then(() => {});
    this.stdin = stdin
      ? new Writable({
          write: (chunk: Buffer, _encoding, callback) => {
            helper.command(this, { type: 'stdin', data: chunk });
            callback();
          },
          final: (callback) => {
            helper.command(this, { type: 'stdin-end' });
            callback();
          },
        })
      : null;
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
    if (this.exitCode !== null || this.signalCode !== null) return false;
    this.killed = true;
    this.helper.command(this, { type: 'signal', signal });
    return true;
  }

  /** @internal what the helper said about this process */
  receive(event: SandboxEvent): void {
    switch (event.type) {
      case 'spawned':
        this.pid = event.pid;
        return;
      case 'stdout':
      case 'stderr': {
        const stream = this[event.type];
        const data = Buffer.from(event.data.buffer, event.data.byteOffset, event.data.byteLength);
        // Pushed to a stream nobody reads any more, it is dropped: it must not hold the process back.
        const taken = !this.streamEnds.has(stream) || stream.destroyed || stream.push(data);
        if (taken) this.acknowledge(event.type, data.length);
        else this.owed[event.type] += data.length;
        return;
      }
      case 'stdout-end':
      case 'stderr-end':
        this.closeStream(event.type === 'stdout-end' ? this.stdout : this.stderr);
        return;
      case 'error': {
        const error = Object.assign(new Error(event.message), event.code ? { code: event.code } : {});
        if (this.pid === undefined) this.finish();
        if (this.listenerCount('error')) this.emit('error', error);
        return;
      }
      case 'exit':
        this.exitCode = event.code;
        this.signalCode = event.signal;
        this.end();
        this.emit('exit', event.code, event.signal);
        return;
    }
  }

  /** It could not start, or the helper is gone: the streams end, and (with `signal`) it exits. */
  finish(signal?: NodeJS.Signals): void {
    this.closeStream(this.stdout);
    this.closeStream(this.stderr);
    this.stdin?.destroy();
    if (signal) this.receive({ id: this.id, type: 'exit', code: null, signal });
    else this.end();
  }

  private output(name: 'stdout' | 'stderr'): Readable {
    return new Readable({
      // The reader wants more: what it took meanwhile may come.
      read: () => {
        const bytes = this.owed[name];
        this.owed[name] = 0;
        this.acknowledge(name, bytes);
      },
    });
  }

  private acknowledge(name: 'stdout' | 'stderr', bytes: number): void {
    if (bytes > 0) this.helper.command(this, { type: 'ack', stream: name, bytes });
  }

  private closeStream(stream: Readable): void {
    const ended = this.streamEnds.get(stream);
    if (!ended) return;
    this.streamEnds.delete(stream);
    stream.push(null);
    ended();
  }
}

type SandboxEvent = { id: number } & (
  | { type: 'spawned'; pid: number }
  | { type: 'stdout' | 'stderr'; data: Uint8Array }
  | { type: 'stdout-end' | 'stderr-end' }
  | { type: 'error'; message: string; code?: string }
  | { type: 'exit'; code: number | null; signal: NodeJS.Signals | null }
);

type SandboxCommand =
  | { type: 'stdin'; data: Buffer }
  | { type: 'stdin-end' }
  | { type: 'signal'; signal: NodeJS.Signals }
  | { type: 'ack'; stream: 'stdout' | 'stderr'; bytes: number }
  | { type: 'kill-tree'; graceMs: number };

/**
 * How many bytes of one stream of a process the helper sends before the server acknowledges
 * them: a process that floods waits for the server (see SandboxProcess).
 */
const OUTPUT_WINDOW = 1024 * 1024;

/**
 * The sandbox helper: spawns each process detached (a process group of its own), streams its
 * output (at most OUTPUT_WINDOW unacknowledged bytes per stream) and exit back, forwards stdin and
 * signals, and kills a tree as killTree says (SIGTERM to the group, SIGKILL after the grace
 * period, and to what is left in the group once the leader exited). When the server is gone (its
 * IPC channel closes) every group it started is killed.
 */
const HELPER_SOURCE = `
const { spawn } = require('node:child_process');
const OUTPUT_WINDOW = ${OUTPUT_WINDOW};
const children = new Map();
// The output streams of each process until they end (a process may exit before its output does).
const outputs = new Map();
const reply = (message) => { if (process.connected) process.send(message); };
const signalGroup = (pid, signal) => { try { process.kill(-pid, signal); } catch {} };
process.on('message', (message) => {
  const { id } = message;
  if (message.type === 'spawn') {
    let child;
    try {
      child = spawn(message.command, message.args, {
        cwd: message.cwd, env: message.env, detached: true, uid: message.uid, gid: message.gid,
        stdio: [message.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      });
    } catch (error) {
      return reply({ id, type: 'error', message: error.message, code: error.code });
    }
    children.set(id, child);
    if (child.pid !== undefined) reply({ id, type: 'spawned', pid: child.pid });
    child.stdin?.on('error', () => {});
    const streams = { stdout: child.stdout, stderr: child.stderr, open: 2 };
    outputs.set(id, streams);
    for (const name of ['stdout', 'stderr']) {
      const stream = child[name];
      stream.unacknowledged = 0;
      stream.on('data', (data) => {
        reply({ id, type: name, data });
        stream.unacknowledged += data.length;
        if (stream.unacknowledged >= OUTPUT_WINDOW) stream.pause();
      });
      stream.on('end', () => reply({ id, type: name + '-end' }));
      stream.once('close', () => {
        if (--streams.open === 0) outputs.delete(id);
      });
    }
    child.once('error', (error) => {
      if (child.pid === undefined) children.delete(id);
      reply({ id, type: 'error', message: error.message, code: error.code });
    });
    child.once('exit', (code, signal) => {
      children.delete(id);
      // What the leader left behind in its group when it was being killed goes too.
      if (child.killing) setTimeout(() => signalGroup(child.pid, 'SIGKILL'), 50);
      reply({ id, type: 'exit', code, signal });
    });
    return;
  }
  if (message.type === 'ack') {
    const stream = outputs.get(id)?.[message.stream];
    if (!stream) return;
    stream.unacknowledged -= message.bytes;
    if (stream.isPaused() && stream.unacknowledged < OUTPUT_WINDOW) stream.resume();
    return;
  }
  const child = children.get(id);
  if (!child) return;
  if (message.type === 'stdin') child.stdin?.write(message.data);
  else if (message.type === 'stdin-end') child.stdin?.end();
  else if (message.type === 'signal') child.kill(message.signal);
  else if (message.type === 'kill-tree' && child.pid !== undefined && !child.killing) {
    child.killing = true;
    signalGroup(child.pid, 'SIGTERM');
    const timer = setTimeout(() => signalGroup(child.pid, 'SIGKILL'), message.graceMs);
    child.once('exit', () => clearTimeout(timer));
  }
});
process.on('disconnect', () => {
  for (const child of children.values()) if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
  process.exit(0);
});
`;

/** The client side of the sandbox helper: one SandboxProcess per process it runs. */
class SandboxHelper {
  private nextId = 0;
  private readonly running = new Map<number, SandboxProcess>();
  private readonly process = new HelperProcess<SandboxEvent>({
    title: 'mainloop-sandbox',
    source: HELPER_SOURCE,
    onMessage: (event) => this.running.get(event.id)?.receive(event),
    onExit: () => {
      // Its processes are killed with it (none is left running unseen), and their runs fail.
      for (const child of [...this.running.values()]) {
        if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
        child.finish('SIGKILL');
      }
    },
  });

  spawn(request: {
    command: string;
    args: string[];
    cwd: string;
    env: Record<string, string>;
    stdin: boolean;
    /** the user to run as (a root server's task user) */
    uid?: number;
    gid?: number;
  }) {
    const child = new SandboxProcess(++this.nextId, request.stdin, this);
    this.running.set(child.id, child);
    this.process.hold();
    void child.closed.then(() => {
      this.running.delete(child.id);
      this.process.release();
    });
    this.process.send({ id: child.id, type: 'spawn', ...request }).catch((error: Error) => {
      child.receive({ id: child.id, type: 'error', message: `could not reach the sandbox helper: ${error.message}` });
    });
    return child;
  }

  command(child: SandboxProcess, command: SandboxCommand): void {
    if (!this.running.has(child.id)) return;
    // A helper gone meanwhile has ended the process (onExit).
    this.process.send({ id: child.id, ...command }).catch(() => {});
  }
}

const sandboxHelper = new SandboxHelper();

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}
