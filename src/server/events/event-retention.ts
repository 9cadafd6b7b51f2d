import type { Logger } from 'pino';
import type { EventService } from './event.service.js';

const HOUR_MS = 60 * 60 * 1000;

/**
 * Deletes events past the retention period: once at start, then every hour. Every instance
 * may run it; deleting is idempotent. A client resuming from a pruned id gets what remains.
 */
export class EventRetention {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;

  constructor(private readonly deps: { events: EventService; logger: Logger; intervalMs?: number }) {}

  start(): void {
    void this.pruneNow();
    this.timer = setInterval(() => void this.pruneNow(), this.deps.intervalMs ?? HOUR_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Prunes once; resolves with how many events went (0 when it failed: it logs and tries again next time). */
  pruneNow(): Promise<number> {
    this.running ??= this.deps.events
      .prune()
      .then((removed) => {
        if (removed > 0) this.deps.logger.info({ removed }, 'pruned old events');
        return removed;
      })
      .catch((error: unknown) => {
        this.deps.logger.warn({ err: error }, 'could not prune old events; trying again later');
        return 0;
      })
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }
}
