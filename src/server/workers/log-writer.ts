import type { Logger } from 'pino';
import type { LogKind } from '../../contract/tasks.js';
import type { Db } from '../db/database.js';
import type { EventService } from '../events/index.js';
import type { Clock } from '../lib/clock.js';
import type { TaskLogRepository } from './task-log.repository.js';

/** The longest line kept in a task's log; longer ones are cut with a note. */
export const MAX_LOG_LINE = 8_000;
/** How long lines wait to be written together (one transaction, one `task.log` event). */
const FLUSH_AFTER_MS = 40;
const MAX_BATCH = 200;

/**
 * A run's log lines, written in small batches: each batch is stored and announced (`task.log`)
 * in one transaction, in order, so a client that pages `?after=` and listens to events sees every
 * line once. `close()` waits until the last line is stored.
 */
export class TaskLogWriter {
  private buffer: Array<{ kind: LogKind; text: string; at: Date }> = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private readonly watchers = new Set<() => void>();

  constructor(
    private readonly deps: {
      db: Db;
      logs: TaskLogRepository;
      events: Pick<EventService, 'append'>;
      clock: Clock;
      logger: Logger;
    },
    private readonly task: { id: string; userId: string },
  ) {}

  /** Calls `onWrite` at each line written (the watchdog's sign of life); returns how to stop. */
  watch(onWrite: () => void): () => void {
    this.watchers.add(onWrite);
    return () => this.watchers.delete(onWrite);
  }

  /** `quiet`: a line of mainloop's own, which is no sign of the agent's life. */
  write(kind: LogKind, text: string, options: { quiet?: boolean } = {}): void {
    if (!options.quiet) for (const watcher of this.watchers) watcher();
    const line =
      text.length > MAX_LOG_LINE
        ? `${text.slice(0, MAX_LOG_LINE)} … (${text.length - MAX_LOG_LINE} more characters)`
        : text;
    this.buffer.push({ kind, text: line, at: this.deps.clock.now() });
    if (this.buffer.length >= MAX_BATCH) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), FLUSH_AFTER_MS);
  }

  /** Writes what is buffered; resolves when everything written so far is stored. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.buffer;
    this.buffer = [];
    if (batch.length) this.writing = this.writing.then(() => this.store(batch));
    return this.writing;
  }

  async close(): Promise<void> {
    await this.flush();
  }

  private async store(batch: Array<{ kind: LogKind; text: string; at: Date }>): Promise<void> {
    const { db, logs, events, logger } = this.deps;
    try {
      await db.transaction().execute(async (trx) => {
        // Writers of one task take turns on its row: the numbers stay gapless.
        await trx.selectFrom('tasks').select('id').where('id', '=', this.task.id).forUpdate().execute();
        const entries = await logs.append(trx, this.task.id, batch);
        await events.append(trx, this.task.userId, 'task.log', { taskId: this.task.id, entries });
      });
    } catch (error) {
      logger.error({ err: error, taskId: this.task.id, lines: batch.length }, 'could not store task log lines');
    }
  }
}
