import { Worker } from 'node:worker_threads';

/**
 * A worker thread running a TypeScript module. Under tsx the loader hooks do not reach worker
 * threads on Node 20, so the worker registers tsx itself before importing the module.
 */
export function startTypeScriptWorker(module: URL, workerData?: unknown): Worker {
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(module.href)}); })`;
  return new Worker(boot, { eval: true, workerData });
}

/** Request/response over a worker's message port, plus the worker's unsolicited messages. */
export class WorkerChannel<Notice = unknown> {
  private next = 0;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();

  constructor(
    readonly worker: Worker,
    onNotice: (notice: Notice) => void = () => {},
  ) {
    worker.on('message', (message: { reply?: number; result?: unknown; error?: string; notice?: Notice }) => {
      if (message.reply === undefined) return onNotice(message.notice as Notice);
      const pending = this.pending.get(message.reply);
      this.pending.delete(message.reply);
      if (message.error !== undefined) pending?.reject(new Error(message.error));
      else pending?.resolve(message.result);
    });
    worker.on('error', (error) => {
      for (const pending of this.pending.values()) pending.reject(error);
      this.pending.clear();
    });
  }

  call<T>(command: string, argument?: unknown): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.worker.postMessage({ id, command, argument });
    });
  }

  async terminate(): Promise<void> {
    await this.worker.terminate();
  }
}

/** The worker's side: answers each command with its handler's result. */
export function serveCommands(
  port: {
    on(event: 'message', listener: (message: { id: number; command: string; argument: unknown }) => void): unknown;
    postMessage(message: unknown, transfer?: readonly ArrayBuffer[]): void;
  },
  handlers: Record<string, (argument: never) => unknown>,
): void {
  port.on('message', ({ id, command, argument }) => {
    const handler = handlers[command];
    Promise.resolve()
      .then(() => {
        if (!handler) throw new Error(`unknown command ${command}`);
        return handler(argument as never);
      })
      .then(
        (result) => port.postMessage({ reply: id, result }),
        (error: unknown) =>
          port.postMessage({
            reply: id,
            error: error instanceof Error ? (error.stack ?? error.message) : String(error),
          }),
      );
  });
}

/** Monotonic milliseconds, comparable across the threads of one process (and processes of one machine). */
export function now(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
