import type pg from 'pg';
import type { Logger } from 'pino';
import { SystemClock, type Clock } from '../lib/clock.js';
import { within } from '../lib/deadline.js';

export type DatabaseState = 'up' | 'down';

export interface DatabaseHealthOptions {
  pool: pg.Pool;
  logger: Logger;
  /** how long the database's last answer counts as current (default 1 s): at most one probe per period */
  freshForMs?: number;
  /** how long a probe may wait for the database before it counts as down (default 2 s) */
  probeTimeoutMs?: number;
  /** between two probes while it is down (default 1 s) */
  retryMs?: number;
  clock?: Clock;
}

/**
 * Whether the database answers, for `GET /api/health` and the log. Asked at most once per
 * `freshForMs` (`select 1` through the pool, shared by every caller meanwhile), so that a health
 * check under load costs next to nothing; a connection the pool loses makes it ask at once. While
 * the database is down it asks every `retryMs`, and says in the log when it went and when it came
 * back — once each, whatever the number of requests that failed meanwhile.
 */
export class DatabaseHealth {
  private state: DatabaseState = 'up';
  private answeredAt = 0;
  private downSince = 0;
  private watching = false;
  private probing: Promise<DatabaseState> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly freshForMs: number;
  private readonly probeTimeoutMs: number;
  private readonly retryMs: number;
  private readonly clock: Clock;

  constructor(private readonly options: DatabaseHealthOptions) {
    this.freshForMs = options.freshForMs ?? 1_000;
    this.probeTimeoutMs = options.probeTimeoutMs ?? 2_000;
    this.retryMs = options.retryMs ?? 1_000;
    this.clock = options.clock ?? new SystemClock();
  }

  /** From now on `check` asks the database; call once it has answered (after the migrations). */
  watch(): void {
    if (this.watching) return;
    this.watching = true;
    this.answeredAt = this.now();
    this.options.pool.on('error', this.onLostConnection);
  }

  /** The database's state: from its last answer when that is fresh, else from a probe. Before `watch`: up. */
  async check(): Promise<DatabaseState> {
    if (!this.watching) return 'up';
    if (this.state === 'up' && this.now() - this.answeredAt < this.freshForMs) return 'up';
    return this.probe();
  }

  close(): void {
    this.watching = false;
    clearTimeout(this.retryTimer);
    this.options.pool.off('error', this.onLostConnection);
  }

  /** An idle connection died (Postgres stopped, or restarted): ask now rather than at the next check. */
  private readonly onLostConnection = () => {
    this.answeredAt = 0;
    void this.probe();
  };

  private probe(): Promise<DatabaseState> {
    this.probing ??= this.ask().finally(() => (this.probing = undefined));
    return this.probing;
  }

  private async ask(): Promise<DatabaseState> {
    try {
      await within(this.options.pool.query('select 1'), this.probeTimeoutMs, () => new Error('no answer in time'));
      this.cameBack();
    } catch (error) {
      this.wentDown(error);
    }
    return this.state;
  }

  private wentDown(error: unknown): void {
    if (!this.watching) return;
    if (this.state === 'up') {
      this.state = 'down';
      this.downSince = this.now();
      this.options.logger.warn(
        { err: error },
        'the database does not answer; requests that need it are answered 503 until it is back',
      );
    }
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.probe(), this.retryMs);
    this.retryTimer.unref();
  }

  private cameBack(): void {
    this.answeredAt = this.now();
    if (this.state === 'up') return;
    this.state = 'up';
    this.options.logger.info({ downForMs: this.answeredAt - this.downSince }, 'the database answers again');
  }

  private now(): number {
    return this.clock.now().getTime();
  }
}
