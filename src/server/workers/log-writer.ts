import type { Logger } from 'pino';
import type { LogKind } from '../../contract/tasks.js';
import type { Db } from '../db/database.js';
import type { EventService } from '../events/index.js';
import type { Clock } from '../lib/clock.js';
import { storable } from '../lib/storable-text.js';
import type { TaskLogRepository } from './task-log.repository.js';

/** The longest line kept in a task's log; longer ones are cut with a note. */
export const MAX_LOG_LINE = 8_000;
/**
 * A run keeps its first HEAD_LINES lines and its last TAIL_LINES in the log; the lines between are
 * folded into their count. A million lines of output are a few thousand rows, not a million.
 */
export const HEAD_LINES = 2_000;
export const TAIL_LINES = 1_000;
/** How long lines wait to be written together (one transaction, one `task.log` event). */
const FLUSH_AFTER_MS = 40;
const MAX_BATCH = 200;
/** Lines waiting to be stored before `write` asks its caller to wait: a flooding process is held back. */
const MAX_UNSTORED = 4 * MAX_BATCH;

type Line = { kind: LogKind; text: string; at: Date };

/**
 * A run's log lines, written in small batches: each batch is stored and announced (`task.log`)
 * in one transaction, in order, so a client that pages `?after=` and listens to events sees every
 * line once. Past HEAD_LINES, only the last TAIL_LINES are kept (in memory, written at `close()`
 * after a line counting the ones folded). `close()` waits until the last line is stored.
 */
export class TaskLogWriter {
  private buffer: Line[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  /** lines buffered or being stored */
  private unstored = 0;
  private written = 0;
  /** the last TAIL_LINES past the head, as a ring from `tailNext` */
  private tail: Line[] = [];
  private tailNext = 0;
  private folded = 0;
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

  /**
   * `quiet`: a line of mainloop's own, which is no sign of the agent's life. Answers a promise when
   * too many lines wait to be stored: who reads a process's output waits for it before reading on.
   */
  write(kind: LogKind, text: string, options: { quiet?: boolean } = {}): Promise<void> | undefined {
    if (!options.quiet) for (const watcher of this.watchers) watcher();
    // Cut before it is made storable: a cut may leave half of a surrogate pair.
    const cut =
      text.length > MAX_LOG_LINE
        ? `${text.slice(0, MAX_LOG_LINE)} … (${text.length - MAX_LOG_LINE} more characters)`
        : text;
    const line = { kind, text: storable(cut), at: this.deps.clock.now() };
    if (this.written < HEAD_LINES) {
      this.written++;
      return this.queue(line);
    }
    if (this.tail.length < TAIL_LINES) {
      if (this.tail.length === 0) {
        this.queue({
          kind: 'system',
          text: `The output goes on past ${HEAD_LINES.toLocaleString('en-US')} lines: the lines after them are folded, and the last ${TAIL_LINES.toLocaleString('en-US')} follow when this run ends.`,
          at: line.at,
        });
      }
      this.tail.push(line);
      return undefined;
    }
    this.tail[this.tailNext] = line;
    this.tailNext = (this.tailNext + 1) % TAIL_LINES;
    this.folded++;
    return undefined;
  }

  /** Writes what is buffered; resolves when everything written so far is stored. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const lines = this.buffer;
    this.buffer = [];
    for (let start = 0; start < lines.length; start += MAX_BATCH) {
      const batch = lines.slice(start, start + MAX_BATCH);
      this.writing = this.writing.then(() => this.store(batch)).finally(() => (this.unstored -= batch.length));
    }
    return this.writing;
  }

  /** Writes the run's last lines, after the count of the ones folded, and waits until all are stored. */
  async close(): Promise<void> {
    const last = [...this.tail.slice(this.tailNext), ...this.tail.slice(0, this.tailNext)];
    this.tail = [];
    this.tailNext = 0;
    if (this.folded > 0) {
      const count = this.folded.toLocaleString('en-US');
      this.queue({ kind: 'system', text: `… ${count} line${this.folded === 1 ? '' : 's'} folded …`, at: last[0]!.at });
      this.folded = 0;
    }
    for (const line of last) this.queue(line);
    await this.flush();
  }

  private queue(line: Line): Promise<void> | undefined {
    this.buffer.push(line);
    this.unstored++;
    if (this.buffer.length >= MAX_BATCH) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), FLUSH_AFTER_MS);
    // Behind: the caller waits for the batches on their way (the rest follow in batches of their own).
    return this.unstored >= MAX_UNSTORED ? this.writing : undefined;
  }

  private async store(batch: Line[]): Promise<void> {
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
