import type { Logger } from 'pino';
import type { Db } from '../db/database.js';
import type { Clock } from '../lib/clock.js';
import type { Ids } from '../lib/ids.js';
import type { NotificationPreferences } from '../settings/index.js';
import { OutboundChannels } from './outbound-channels.js';
import { PushDispatcher } from './push-dispatcher.js';
import { PushOutboxRepository } from './push-outbox.repository.js';
import { PushSubscriptionRepository } from './push-subscription.repository.js';
import { PushService } from './push.service.js';
import { VapidKeyStore } from './vapid-keys.js';
import { WebPushClient } from './web-push.client.js';

/** The push module, wired: the subscriptions' service and the dispatcher (started in afterListen). */
export function createPush(options: {
  db: Db;
  settings: { notificationPreferences(userId: string): Promise<NotificationPreferences> };
  clock: Clock;
  ids: Ids;
  logger: Logger;
  /** MAINLOOP_PUBLIC_URL: when https, the VAPID subject push services may contact, unless… */
  publicUrl?: string;
  /** …MAINLOOP_VAPID_SUBJECT names one */
  vapidSubject?: string;
}): {
  service: PushService;
  dispatcher: PushDispatcher;
  /** makes (or loads) the VAPID key pair and starts the dispatcher */
  start(options: { baseUrl?: string }): void;
  /** a phrase for the start-up summary: where pushes go */
  describe(): string;
  stop(): Promise<void>;
} {
  const { db, clock, ids } = options;
  const keys = new VapidKeyStore(db);
  const subscriptions = new PushSubscriptionRepository();
  // Some push services (Apple's) refuse a localhost contact: MAINLOOP_VAPID_SUBJECT gives a real one.
  const subject =
    options.vapidSubject ??
    (options.publicUrl?.startsWith('https://') ? options.publicUrl : 'mailto:mainloop@localhost');
  const dispatcher = new PushDispatcher({
    db,
    outbox: new PushOutboxRepository(),
    subscriptions,
    preferences: options.settings,
    webPush: new WebPushClient({ keys: () => keys.get(), subject }),
    channels: new OutboundChannels({ now: () => clock.now() }),
    clock,
    logger: options.logger.child({ component: 'push' }),
  });
  return {
    service: new PushService({ db, subscriptions, keys, ids }),
    dispatcher,
    start(startOptions) {
      keys.get().catch((error: unknown) => options.logger.error({ err: error }, 'could not make the VAPID key pair'));
      dispatcher.start(startOptions);
    },
    describe: () =>
      `Web Push (contact ${subject}${subject.endsWith('@localhost') ? '; iPhones need MAINLOOP_VAPID_SUBJECT' : ''}), ` +
      'ntfy, Slack, a webhook: Settings → Notifications',
    stop: () => dispatcher.stop(),
  };
}
