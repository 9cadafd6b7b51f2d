import { z } from 'zod';
import { InboxKind, InboxReply, Priority } from './inbox.js';

/**
 * Web Push (RFC 8030/8291/8292): a device's PushSubscription, the server's VAPID public key, and
 * what the service worker receives. `POST /api/push/subscriptions` takes `subscription.toJSON()`.
 */

/** P-256 public key, uncompressed (0x04 ‖ x ‖ y): 65 bytes; the auth secret: 16 bytes. */
const P256DH_BYTES = 65;
const AUTH_BYTES = 16;
const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/;

export const PushSubscriptionRequest = z
  .object({
    endpoint: z
      .string()
      .max(2_000)
      .refine(isHttpUrl, 'endpoint must be an https:// (or http://) URL of the browser’s push service'),
    /** browsers send it (usually null); mainloop drops a subscription when its push service says 404/410 */
    expirationTime: z.number().nullable().optional(),
    keys: z
      .object({
        p256dh: z
          .string()
          .refine(
            (value) => base64urlLength(value) === P256DH_BYTES && decodeFirstByte(value) === 4,
            `keys.p256dh must be base64url of an uncompressed P-256 public key (${P256DH_BYTES} bytes)`,
          ),
        auth: z
          .string()
          .refine(
            (value) => base64urlLength(value) === AUTH_BYTES,
            `keys.auth must be base64url of ${AUTH_BYTES} bytes`,
          ),
      })
      .strict(),
  })
  .strict();
export type PushSubscriptionRequest = z.infer<typeof PushSubscriptionRequest>;

export const PushDevice = z.object({ id: z.string(), endpoint: z.string(), createdAt: z.string() });
export type PushDevice = z.infer<typeof PushDevice>;
export const PushSubscriptionResponse = z.object({ subscription: PushDevice });
export type PushSubscriptionResponse = z.infer<typeof PushSubscriptionResponse>;

/** DELETE /api/push/subscriptions */
export const DeletePushSubscriptionRequest = z.object({ endpoint: z.string().min(1, 'endpoint is required') }).strict();
export type DeletePushSubscriptionRequest = z.infer<typeof DeletePushSubscriptionRequest>;

/** GET /api/push/vapid-public-key: the applicationServerKey for pushManager.subscribe (base64url). */
export const VapidPublicKeyResponse = z.object({ key: z.string() });
export type VapidPublicKeyResponse = z.infer<typeof VapidPublicKeyResponse>;

/** What a notification offers to do without opening the app. */
export const PUSH_ACTIONS = ['approve', 'reply'] as const;
export const PushAction = z.object({ action: z.enum(PUSH_ACTIONS), title: z.string() });
export type PushAction = z.infer<typeof PushAction>;

/**
 * The decrypted payload the service worker receives (kept under 3 KB). `kind: "digest"` is the one
 * message sent when quiet hours end, for everything held meanwhile.
 */
export const PushPayload = z.object({
  itemId: z.string(),
  kind: z.union([InboxKind, z.literal('digest')]),
  priority: Priority,
  title: z.string(),
  body: z.string(),
  /** a path in mainloop (/tasks/42) or an outside http(s) URL */
  url: z.string(),
  taskId: z.string().optional(),
  questionId: z.string().optional(),
  replies: z.array(InboxReply),
  actions: z.array(PushAction),
  /** in a digest: the items it stands for */
  itemIds: z.array(z.string()).optional(),
});
export type PushPayload = z.infer<typeof PushPayload>;

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

function base64urlLength(value: string): number {
  if (!BASE64URL.test(value)) return -1;
  const unpadded = value.replace(/=+$/, '');
  if (unpadded.length % 4 === 1) return -1;
  return Math.floor((unpadded.length * 3) / 4);
}

function decodeFirstByte(value: string): number {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const first = alphabet.indexOf(value[0] ?? '');
  const second = alphabet.indexOf(value[1] ?? '');
  return (first << 2) | (second >> 4);
}
