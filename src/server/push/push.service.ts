import type { PushDevice, PushSubscriptionRequest } from '../../contract/push.js';
import type { Db } from '../db/database.js';
import { notFound } from '../errors.js';
import type { Ids } from '../lib/ids.js';
import type { PushSubscriptionRepository } from './push-subscription.repository.js';
import type { VapidKeyStore } from './vapid-keys.js';

export interface PushServiceDeps {
  db: Db;
  subscriptions: PushSubscriptionRepository;
  keys: Pick<VapidKeyStore, 'get'>;
  ids: Ids;
}

/** A person's devices for Web Push, and the server's public key they subscribe with. */
export class PushService {
  constructor(private readonly deps: PushServiceDeps) {}

  async vapidPublicKey(): Promise<string> {
    return (await this.deps.keys.get()).publicKey;
  }

  /** Stores the device; the same endpoint again updates it (new keys) rather than adding one. */
  async subscribe(userId: string, request: PushSubscriptionRequest, userAgent?: string): Promise<PushDevice> {
    const stored = await this.deps.subscriptions.upsert(this.deps.db, {
      id: this.deps.ids.id(),
      userId,
      endpoint: request.endpoint,
      p256dh: request.keys.p256dh.replace(/=+$/, ''),
      auth: request.keys.auth.replace(/=+$/, ''),
      ...(userAgent ? { userAgent: userAgent.slice(0, 300) } : {}),
    });
    return { id: stored.id, endpoint: stored.endpoint, createdAt: stored.createdAt.toISOString() };
  }

  /** This device stops receiving pushes. Someone else's endpoint (or an unknown one) is not found. */
  async unsubscribe(userId: string, endpoint: string): Promise<void> {
    if (!(await this.deps.subscriptions.delete(this.deps.db, userId, endpoint))) throw notFound('push subscription');
  }
}
