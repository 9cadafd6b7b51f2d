import { spawn, type ChildProcess } from 'node:child_process';

/**
 * A small Node process that the server starts once and talks to by IPC, so that the processes
 * mainloop runs are forked by it and not by the server: a fork of the server (a large process)
 * blocks its event loop for milliseconds each time — tens under load, with fifty tasks in
 * flight — while the helper's forks block nobody but the helper.
 *
 * The helper runs `source` (CommonJS, no imports of mainloop's own) and ends when the server does
 * (its IPC channel closes). One that dies is reported by `onExit` and started again at the next
 * `send`. Only work in flight (`hold`) keeps the server's process alive; an idle helper does not.
 */
export class HelperProcess<Incoming> {
  private child: ChildProcess | undefined;
  private holds = 0;

  constructor(
    private readonly options: {
      /** its process title, as `ps` shows it */
      title: string;
      source: string;
      onMessage: (message: Incoming) => void;
      /** it exited or could not start: whatever was in flight with it is lost */
      onExit: (why: string) => void;
    },
  ) {}

  /** Sends a message (starting the helper when none runs); resolves once it is written, rejects when it cannot be. */
  send(message: unknown): Promise<void> {
    const child = this.child ?? this.start();
    return new Promise((resolve, reject) => {
      child.send(message as object, (error) => (error ? reject(error) : resolve()));
    });
  }

  /** Keeps the server's process alive until the matching `release` (something is in flight). */
  hold(): void {
    if (++this.holds === 1 && this.child) this.reference(this.child, true);
  }

  release(): void {
    if (this.holds > 0 && --this.holds === 0 && this.child) this.reference(this.child, false);
  }

  private start(): ChildProcess {
    const child = spawn(
      process.execPath,
      ['-e', `process.title = ${JSON.stringify(this.options.title)};\n${this.options.source}`],
      {
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
        // Buffers cross as they are (the sandbox's output), not as JSON.
        serialization: 'advanced',
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/', LANG: 'C.UTF-8' },
      },
    );
    child.on('message', (message: Incoming) => this.options.onMessage(message));
    let gone = false;
    const exited = (why: string) => {
      if (gone) return;
      gone = true;
      if (this.child === child) this.child = undefined;
      this.options.onExit(why);
    };
    child.once('exit', (code, signal) => exited(`exited (${signal ?? code})`));
    child.once('error', (error) => exited(`failed: ${error.message}`));
    this.child = child;
    this.reference(child, this.holds > 0);
    return child;
  }

  private reference(child: ChildProcess, keep: boolean): void {
    const channel = child.channel as { ref(): void; unref(): void } | null | undefined;
    if (keep) {
      child.ref();
      channel?.ref();
    } else {
      child.unref();
      channel?.unref();
    }
  }
}
