import webpush from 'web-push';
import type { VapidKeyPair } from './vapid-keys.js';

export interface WebPushTarget {
  endpoint: string;
  /** base64url */
  p256dh: string;
  /** base64url */
  auth: string;
}

export interface WebPushOptions {
  urgency: 'very-low' | 'low' | 'normal' | 'high';
  /** seconds the push service keeps the message for an offline device */
  ttl: number;
}

/** The push service says the subscription no longer exists (404/410): forget the device. */
export class PushSubscriptionGone extends Error {
  constructor(readonly status: number) {
    super(`the push service answered ${status}: the subscription is gone`);
    this.name = 'PushSubscriptionGone';
  }
}

/** VAPID tokens are good for at most 24 h; ours for 12 h, reused per push service while an hour is left. */
const TOKEN_LIFETIME_S = 12 * 60 * 60;
const TOKEN_RENEW_BEFORE_S = 60 * 60;

/**
 * Sends one encrypted message to one device, as RFC 8030/8291/8292 say: the payload encrypted
 * with `web-push` (aes128gcm, the subscription's keys), a VAPID JWT signed with the server's key
 * for the push service's origin, POSTed with `fetch` (so that a timeout aborts it, and http
 * endpoints work in tests). The VAPID token is made once per push service, not per message.
 */
export class WebPushClient {
  private readonly tokens = new Map<string, { authorization: string; expires: number }>();

  constructor(
    private readonly options: {
      keys: () => Promise<VapidKeyPair>;
      /** who runs this server, for the push service: a mailto: or https: URL */
      subject: string;
      timeoutMs?: number;
      fetch?: typeof fetch;
    },
  ) {}

  async send(target: WebPushTarget, payload: string, options: WebPushOptions): Promise<void> {
    const authorization = await this.authorization(new URL(target.endpoint).origin);
    const { cipherText } = webpush.encrypt(target.p256dh, target.auth, payload, 'aes128gcm');
    const response = await (this.options.fetch ?? fetch)(target.endpoint, {
      method: 'POST',
      headers: {
        authorization,
        ttl: String(options.ttl),
        urgency: options.urgency,
        'content-encoding': 'aes128gcm',
        'content-type': 'application/octet-stream',
      },
      body: Uint8Array.from(cipherText),
      redirect: 'manual',
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
    });
    const text = await response.text().catch(() => '');
    if (response.status === 404 || response.status === 410) throw new PushSubscriptionGone(response.status);
    if (response.status < 200 || response.status >= 300) {
      throw new Error(`the push service answered ${response.status}${text ? `: ${text.slice(0, 200)}` : ''}`);
    }
  }

  private async authorization(audience: string): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const cached = this.tokens.get(audience);
    if (cached && cached.expires - now > TOKEN_RENEW_BEFORE_S) return cached.authorization;
    const keys = await this.options.keys();
    const expires = now + TOKEN_LIFETIME_S;
    const headers = webpush.getVapidHeaders(
      audience,
      this.options.subject,
      keys.publicKey,
      keys.privateKey,
      'aes128gcm',
      expires,
    );
    if (this.tokens.size > 1_000) this.tokens.clear();
    this.tokens.set(audience, { authorization: headers.Authorization, expires });
    return headers.Authorization;
  }
}
