import type { Logger } from 'pino';
import { LogThrottle } from '../lib/log-throttle.js';
import type { InboxService } from './inbox.service.js';

const INTERVAL_MS = 15_000;

/**
 * Brings snoozed items back when their time comes: every 15 s (and at start), each instance
 * may run it; the update is atomic, so two instances wake an item once. (`GET /api/inbox`
 * already shows a due item as open; this tells every device with `inbox.updated`.)
 */
export class InboxWaker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly failures = new LogThrottle();

  constructor(private readonly deps: { inbox: Pick<InboxService, 'wakeDue'>; logger: Logger; intervalMs?: number }) {}

  start(): void {
    void this.wakeNow();
    this.timer = setInterval(() => void this.wakeNow(), this.deps.intervalMs ?? INTERVAL_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  wakeNow(): Promise<void> {
    this.running ??= this.deps.inbox
      .wakeDue()
      .then(() => undefined)
      // Every round fails alike while the database is gone: said once a minute.
      .catch((error: unknown) =>
        this.failures.log(this.deps.logger, 'warn', 'wake', { err: error }, 'could not wake snoozed inbox items'),
      )
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }
}
