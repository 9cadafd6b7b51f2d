import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { StoredEvent } from './event.repository.js';
import { eventFrame, HEARTBEAT_FRAME } from './sse.js';

export interface EventStreamTuning {
  /** a live client with more than this queued in memory is dropped (it reconnects and catches up) */
  maxBufferedBytes: number;
  /** a client whose socket has not drained for this long is dropped */
  drainTimeoutMs: number;
  /** events read from the database per query while catching up */
  pageSize: number;
  /** live events held back while a stream catches up; beyond this it is dropped */
  maxHeld: number;
}

export interface EventSource {
  listAfter(userId: string, afterId: string, limit: number): Promise<StoredEvent[]>;
}

type Mode = 'starting' | 'catching-up' | 'live' | 'closed';

/**
 * One client's `text/event-stream`. It delivers each of its user's events exactly once, in id
 * order: a user's ids are consecutive (a counter row locked until commit), so the stream knows
 * the next id it expects. Live events that arrive while it reads missed ones from the database
 * are held back and merged after; an event that skips ahead (a gap: the listener was down, or
 * the stream just opened) sends it back to the database for what lies between.
 */
export class EventStream {
  /** the id of the last event written, or the id the client resumes after */
  cursor = 0;
  private mode: Mode = 'starting';
  private held: Array<{ id: number; frame: Buffer }> = [];
  private catchingUp = false;
  private rescan = false;
  private drainTimer: NodeJS.Timeout | undefined;
  private drainWaiter: (() => void) | undefined;

  constructor(
    readonly userId: string,
    private readonly response: ServerResponse,
    private readonly deps: {
      source: EventSource;
      tuning: EventStreamTuning;
      logger: Logger;
      /** called once when the stream is dropped for being too slow */
      onDropped: (stream: EventStream, reason: string) => void;
    },
  ) {
    response.on('drain', () => {
      clearTimeout(this.drainTimer);
      this.drainTimer = undefined;
      this.drainWaiter?.();
    });
    response.on('close', () => {
      this.mode = 'closed';
      this.held = [];
      clearTimeout(this.drainTimer);
      this.drainWaiter?.();
    });
  }

  get closed(): boolean {
    return this.mode === 'closed';
  }

  /** Writes bytes that are not events (the opening frames). */
  send(text: string): void {
    if (!this.closed) this.write(Buffer.from(text));
  }

  /** Starts delivery after `cursor`: replays what is stored, then goes live. */
  start(cursor: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.cursor = cursor;
    this.mode = 'catching-up';
    return this.catchUp();
  }

  /** A live event for this stream's user. Called for every one, in commit order; cheap on the hot path. */
  offer(id: number, frame: Buffer): void {
    if (this.mode === 'live') {
      if (id <= this.cursor) return;
      if (id === this.cursor + 1) {
        this.cursor = id;
        this.write(frame);
        return;
      }
      this.hold(id, frame);
      void this.catchUp(); // a gap: fetch what lies between
    } else if (this.mode !== 'closed') {
      this.hold(id, frame);
    }
  }

  /**
   * Reads everything after the cursor from the database, then merges the live events held
   * meanwhile. Safe to call at any time (after the listener reconnects, on a gap): a call
   * during a running catch-up makes that one read the database once more before going live.
   */
  async catchUp(): Promise<void> {
    if (this.mode === 'closed' || this.mode === 'starting') return; // start() reads the database anyway
    if (this.catchingUp) {
      this.rescan = true;
      return;
    }
    this.catchingUp = true;
    this.mode = 'catching-up';
    const { source, tuning } = this.deps;
    try {
      for (;;) {
        this.rescan = false;
        for (;;) {
          const page = await source.listAfter(this.userId, String(this.cursor), tuning.pageSize);
          for (const event of page) {
            const id = Number(event.id);
            if (this.closed) return;
            if (id <= this.cursor) continue;
            this.cursor = id;
            this.write(eventFrame(event));
            if (this.response.writableNeedDrain) await this.drained();
          }
          if (this.closed) return;
          if (page.length < tuning.pageSize) break;
        }
        if (this.mergeHeld() && !this.rescan) {
          this.mode = 'live';
          return;
        }
      }
    } catch (error) {
      if (this.closed) return;
      this.deps.logger.warn(
        { err: error, userId: this.userId },
        'an event stream could not catch up; closing it so the client reconnects',
      );
      this.response.destroy();
    } finally {
      this.catchingUp = false;
    }
  }

  ping(): void {
    if (!this.closed) this.write(HEARTBEAT_FRAME);
  }

  /** Ends the stream cleanly (server shutdown). */
  end(): void {
    if (this.closed) return;
    this.mode = 'closed';
    this.response.end();
  }

  /** Writes the held events that follow the cursor without a gap; false when a gap remains. */
  private mergeHeld(): boolean {
    let index = 0;
    for (; index < this.held.length; index++) {
      const { id, frame } = this.held[index]!;
      if (id <= this.cursor) continue;
      if (id !== this.cursor + 1) break;
      this.cursor = id;
      this.write(frame);
    }
    this.held.splice(0, index);
    return this.held.length === 0;
  }

  private hold(id: number, frame: Buffer): void {
    this.held.push({ id, frame });
    if (this.held.length > this.deps.tuning.maxHeld) {
      this.drop(`more than ${this.deps.tuning.maxHeld} live events held during catch-up`);
    }
  }

  private write(frame: Buffer): void {
    if (this.response.write(frame)) return;
    // Over the socket's high-water mark: the client is not keeping up. (What was queued before
    // this frame counts, so one event bigger than the limit still goes out.)
    if (this.response.writableLength - frame.length > this.deps.tuning.maxBufferedBytes) {
      this.drop(`over ${this.deps.tuning.maxBufferedBytes} bytes queued`);
    } else if (!this.drainTimer) {
      this.drainTimer = setTimeout(
        () => this.drop(`not drained within ${this.deps.tuning.drainTimeoutMs} ms`),
        this.deps.tuning.drainTimeoutMs,
      );
      this.drainTimer.unref();
    }
  }

  private drained(): Promise<void> {
    return new Promise((resolve) => {
      this.drainWaiter = () => {
        this.drainWaiter = undefined;
        resolve();
      };
    });
  }

  /** Too slow to keep: cut it off rather than hold up or bloat the others. It will reconnect and catch up. */
  private drop(reason: string): void {
    if (this.closed) return;
    this.mode = 'closed';
    this.held = [];
    clearTimeout(this.drainTimer);
    this.deps.onDropped(this, reason);
    this.response.destroy();
  }
}
