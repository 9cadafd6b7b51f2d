import type { Logger } from 'pino';
import type { InboxItem } from '../../contract/inbox.js';
import type { PushPayload } from '../../contract/push.js';
import type { Db, Trx } from '../db/database.js';
import type { Clock } from '../lib/clock.js';
import { LogThrottle } from '../lib/log-throttle.js';
import type { NotificationPreferences } from '../settings/index.js';
import { decide, digestDue, digestPayload, itemPayload, messageText, webPushUrgency } from './notification-policy.js';
import type { ChannelMessage, OutboundChannels } from './outbound-channels.js';
import { attemptKey, type DeliveryOutcome, type PushOutboxRepository } from './push-outbox.repository.js';
import type { PushSubscriptionRepository } from './push-subscription.repository.js';
import { PushSubscriptionGone, type WebPushClient } from './web-push.client.js';

export interface PushDispatcherDeps {
  db: Db;
  outbox: PushOutboxRepository;
  subscriptions: PushSubscriptionRepository;
  preferences: { notificationPreferences(userId: string): Promise<NotificationPreferences> };
  webPush: Pick<WebPushClient, 'send'>;
  channels: Pick<OutboundChannels, 'ntfy' | 'slack' | 'webhook'>;
  clock: Clock;
  logger: Logger;
  /** the periodic sweep (default 2 s): catches what a nudge missed, and quiet hours that ended */
  intervalMs?: number;
}

/** Items claimed per transaction. */
const BATCH = 50;
/** Held items one digest stands for at most (the rest go in the next). */
const DIGEST_LIMIT = 100;
/** How long a push service keeps a message for a device that is offline. */
const WEB_PUSH_TTL_S = 24 * 60 * 60;
/**
 * A nudge arrives from inside the transaction that adds the item, before it commits: look soon,
 * and once more a little later; the periodic sweep catches anything still missed.
 */
const NUDGE_DELAYS_MS = [1, 250];

/** One send to one target, for one item or for the items of a digest. */
interface Send {
  itemIds: string[];
  target: string;
  subscriptionId?: string;
  run(): Promise<void>;
}

interface Target {
  name: string;
  subscriptionId?: string;
  deliver(payload: PushPayload, items: readonly InboxItem[]): Promise<void>;
}

/**
 * Sends each item worth a push at most once, ever (docs/decisions/0011-push-delivery.md):
 * `pending` items are claimed with FOR UPDATE SKIP LOCKED; in the same transaction each becomes
 * `held` (quiet hours, not urgent) or `sent` with one `push_deliveries` row per target; only after
 * that commits do the sends start. A crash mid-send leaves rows in `sending`, never a second send.
 * When a person's quiet hours end, their `held` items go out as one digest per target, the same way.
 */
export class PushDispatcher {
  private timer: NodeJS.Timeout | undefined;
  private readonly nudgeTimers = new Set<NodeJS.Timeout>();
  private sweeping: Promise<void> | undefined;
  private sweepAgain = false;
  private readonly failures = new LogThrottle();
  private readonly inFlight = new Set<Promise<void>>();
  private baseUrl: string | undefined;
  private started = false;

  constructor(private readonly deps: PushDispatcherDeps) {}

  /** From afterListen: `baseUrl` (MAINLOOP_PUBLIC_URL or where it listens) makes the app's paths absolute for channels. */
  start(options: { baseUrl?: string } = {}): void {
    if (this.started) return;
    this.started = true;
    this.baseUrl = options.baseUrl;
    void this.sweepNow();
    this.timer = setInterval(() => void this.sweepNow(), this.deps.intervalMs ?? 2_000);
    this.timer.unref();
  }

  /** Stops sweeping and waits for the sweep and the sends under way. */
  async stop(): Promise<void> {
    this.started = false;
    clearInterval(this.timer);
    this.timer = undefined;
    for (const timer of this.nudgeTimers) clearTimeout(timer);
    this.nudgeTimers.clear();
    await this.sweeping;
    await Promise.allSettled([...this.inFlight]);
  }

  /** Something worth a push was stored (maybe not yet committed): look shortly. */
  nudge(): void {
    if (!this.started || this.nudgeTimers.size) return;
    for (const delay of NUDGE_DELAYS_MS) {
      const timer = setTimeout(() => {
        this.nudgeTimers.delete(timer);
        void this.sweepNow();
      }, delay);
      timer.unref();
      this.nudgeTimers.add(timer);
    }
  }

  /** Claims and sends what is due; a call during a sweep runs one more after it. Resolves when claimed (sends may still run). */
  sweepNow(): Promise<void> {
    if (this.sweeping) {
      this.sweepAgain = true;
      return this.sweeping;
    }
    this.sweeping = (async () => {
      do {
        this.sweepAgain = false;
        // Every sweep fails alike while the database is gone: said once a minute.
        await this.sweep().catch((error: unknown) =>
          this.failures.log(this.deps.logger, 'warn', 'sweep', { err: error }, 'push sweep failed'),
        );
      } while (this.sweepAgain && this.started);
    })().finally(() => {
      this.sweeping = undefined;
    });
    return this.sweeping;
  }

  /** Resolves once every send started so far has finished (tests, benchmarks). */
  async settled(): Promise<void> {
    await this.sweeping;
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
  }

  private async sweep(): Promise<void> {
    await this.sendPending();
    await this.sendDigests();
  }

  private async sendPending(): Promise<void> {
    const { db, outbox, clock } = this.deps;
    for (;;) {
      const now = clock.now();
      const { claimed, sends } = await db.transaction().execute(async (trx) => {
        const items = await outbox.claimPending(trx, BATCH);
        const held: string[] = [];
        const sent: string[] = [];
        const sends: Send[] = [];
        for (const [userId, mine] of groupByUser(items)) {
          const { preferences, targets } = await this.targetsFor(trx, userId);
          for (const item of mine) {
            if (decide(item, preferences, now) === 'hold') {
              held.push(item.id);
              continue;
            }
            sent.push(item.id);
            const payload = itemPayload(item);
            for (const target of targets) {
              sends.push({ ...describe(target, [item.id]), run: () => target.deliver(payload, [item]) });
            }
          }
        }
        await outbox.setState(trx, held, 'held', now);
        await outbox.setState(trx, sent, 'sent', now);
        return { claimed: items.length, sends: await this.recordAttempts(trx, sends, now) };
      });
      this.deliver(sends);
      if (claimed < BATCH) return;
    }
  }

  private async sendDigests(): Promise<void> {
    const { db, outbox, clock, preferences } = this.deps;
    for (const userId of await outbox.usersWithHeld(db)) {
      const now = clock.now();
      if (!digestDue(await preferences.notificationPreferences(userId), now)) continue;
      const sends = await db.transaction().execute(async (trx) => {
        const items = await outbox.claimHeld(trx, userId, DIGEST_LIMIT);
        if (!items.length) return [];
        const ids = items.map((item) => item.id);
        await outbox.setState(trx, ids, 'sent', now);
        const { targets } = await this.targetsFor(trx, userId);
        const payload = digestPayload(items);
        const sends = targets.map((target) => ({
          ...describe(target, ids),
          run: () => target.deliver(payload, items),
        }));
        return this.recordAttempts(trx, sends, now);
      });
      this.deliver(sends);
    }
  }

  /** Writes the `sending` rows; only the sends whose rows were new may go. */
  private async recordAttempts(trx: Trx, sends: Send[], now: Date): Promise<Send[]> {
    const recorded = await this.deps.outbox.recordAttempts(
      trx,
      sends.flatMap((send) => send.itemIds.map((itemId) => ({ itemId, target: send.target }))),
      now,
    );
    return sends.filter((send) => send.itemIds.every((itemId) => recorded.has(attemptKey(itemId, send.target))));
  }

  /** Every target at once; one failing never holds up the others. Outcomes are recorded, never retried. */
  private deliver(sends: Send[]): void {
    if (!sends.length) return;
    const running = this.runSends(sends).catch((error: unknown) =>
      this.deps.logger.error({ err: error }, 'could not record push outcomes'),
    );
    this.inFlight.add(running);
    void running.finally(() => this.inFlight.delete(running));
  }

  private async runSends(sends: Send[]): Promise<void> {
    const { db, outbox, subscriptions, logger, clock } = this.deps;
    const results = await Promise.allSettled(sends.map((send) => send.run()));
    const outcomes: DeliveryOutcome[] = [];
    const succeeded: string[] = [];
    const failed: string[] = [];
    const gone: string[] = [];
    results.forEach((result, index) => {
      const send = sends[index]!;
      const error = result.status === 'rejected' ? errorText(result.reason) : undefined;
      for (const itemId of send.itemIds) {
        outcomes.push({ itemId, target: send.target, status: error ? 'failed' : 'sent', ...(error ? { error } : {}) });
      }
      if (error) logger.warn({ target: send.target, itemIds: send.itemIds, error }, 'push delivery failed');
      if (!send.subscriptionId) return;
      if (result.status === 'rejected' && result.reason instanceof PushSubscriptionGone) gone.push(send.subscriptionId);
      else (error ? failed : succeeded).push(send.subscriptionId);
    });
    await outbox.recordOutcomes(db, outcomes);
    for (const id of gone) await subscriptions.deleteById(db, id);
    await subscriptions.recordOutcome(db, succeeded, failed, clock.now());
  }

  /** The person's devices and channels, each able to deliver a payload. */
  private async targetsFor(
    trx: Trx,
    userId: string,
  ): Promise<{ preferences: NotificationPreferences; targets: Target[] }> {
    const { subscriptions, webPush, channels } = this.deps;
    const [preferences, devices] = await Promise.all([
      this.deps.preferences.notificationPreferences(userId),
      subscriptions.listForUser(trx, userId),
    ]);
    const targets: Target[] = devices.map((device) => ({
      name: `webpush:${device.id}`,
      subscriptionId: device.id,
      deliver: (payload) =>
        webPush.send(device, JSON.stringify(payload), { urgency: webPushUrgency(payload), ttl: WEB_PUSH_TTL_S }),
    }));
    const { ntfyUrl, slackWebhookUrl, webhookUrl, webhookSecret } = preferences.channels;
    if (ntfyUrl) targets.push({ name: 'ntfy', deliver: (payload) => channels.ntfy(ntfyUrl, this.message(payload)) });
    if (slackWebhookUrl) {
      targets.push({ name: 'slack', deliver: (payload) => channels.slack(slackWebhookUrl, this.message(payload)) });
    }
    if (webhookUrl) {
      targets.push({
        name: 'webhook',
        deliver: (payload, items) =>
          channels.webhook(
            webhookUrl,
            webhookSecret,
            items.length === 1
              ? { event: 'inbox.item', item: items[0] }
              : { event: 'inbox.digest', title: payload.title, items },
          ),
      });
    }
    return { preferences, targets };
  }

  private message(payload: PushPayload): ChannelMessage {
    const clickUrl = this.absolute(payload.url);
    return {
      title: payload.title,
      text: messageText(payload),
      priority: payload.priority,
      ...(clickUrl ? { clickUrl } : {}),
      tags: [payload.kind],
    };
  }

  private absolute(url: string): string | undefined {
    if (/^https?:\/\//i.test(url)) return url;
    if (url.startsWith('/') && this.baseUrl) return new URL(url, this.baseUrl).href;
    return undefined;
  }
}

function describe(target: Target, itemIds: string[]): Omit<Send, 'run'> {
  return { itemIds, target: target.name, ...(target.subscriptionId ? { subscriptionId: target.subscriptionId } : {}) };
}

function groupByUser(items: ReadonlyArray<{ userId: string; item: InboxItem }>): Map<string, InboxItem[]> {
  const groups = new Map<string, InboxItem[]>();
  for (const { userId, item } of items) groups.set(userId, [...(groups.get(userId) ?? []), item]);
  return groups;
}

function errorText(error: unknown): string {
  const text = error instanceof Error ? (error.name === 'TimeoutError' ? 'timed out' : error.message) : String(error);
  return text.slice(0, 500);
}
