import type { PushSubscriptionRequest, VapidPublicKeyResponse } from '../../../contract/push.js';
import type { ApiClient } from '../api/client.js';

/** What this device can do about Web Push, as the browser says. */
export type PushSupport = 'supported' | 'unsupported' | 'denied';

/** The browser's parts this needs; a test passes fakes. */
export interface PushEnvironment {
  serviceWorker: Pick<ServiceWorkerContainer, 'ready'> | undefined;
  Notification: Pick<typeof Notification, 'permission' | 'requestPermission'> | undefined;
}

export function browserPushEnvironment(target: Window): PushEnvironment {
  const hasPush = 'serviceWorker' in target.navigator && 'PushManager' in target;
  return {
    serviceWorker: hasPush ? target.navigator.serviceWorker : undefined,
    Notification: typeof Notification === 'undefined' ? undefined : Notification,
  };
}

export function pushSupport(environment: PushEnvironment): PushSupport {
  if (!environment.serviceWorker || !environment.Notification) return 'unsupported';
  return environment.Notification.permission === 'denied' ? 'denied' : 'supported';
}

/** This device's subscription, if it has one. */
export async function currentSubscription(environment: PushEnvironment): Promise<PushSubscription | null> {
  if (!environment.serviceWorker) return null;
  const registration = await environment.serviceWorker.ready;
  return registration.pushManager.getSubscription();
}

/**
 * "Enable on this device": permission, then a subscription with the server's VAPID key, then
 * POST /api/push/subscriptions. A subscription made with another key (the server's keys changed)
 * is replaced.
 */
export async function enablePush(api: ApiClient, environment: PushEnvironment): Promise<PushSubscription> {
  if (!environment.serviceWorker || !environment.Notification) {
    throw new Error(
      'This browser cannot receive push notifications (on iPhone: add mainloop to the home screen first).',
    );
  }
  const permission = await environment.Notification.requestPermission();
  if (permission !== 'granted') throw new Error('Notifications are blocked for mainloop in this browser’s settings.');
  const { key } = await api.request<VapidPublicKeyResponse>('GET', '/push/vapid-public-key');
  const applicationServerKey = base64UrlToBytes(key);
  const registration = await environment.serviceWorker.ready;
  let subscription = await registration.pushManager.getSubscription();
  if (subscription && !sameKey(subscription.options.applicationServerKey, applicationServerKey)) {
    await subscription.unsubscribe();
    subscription = null;
  }
  subscription ??= await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey });
  await api.request('POST', '/push/subscriptions', subscription.toJSON() as PushSubscriptionRequest);
  return subscription;
}

/** "Disable": the server forgets this device, then the browser drops the subscription. */
export async function disablePush(api: ApiClient, environment: PushEnvironment): Promise<void> {
  const subscription = await currentSubscription(environment);
  if (!subscription) return;
  await api.request('DELETE', '/push/subscriptions', { endpoint: subscription.endpoint }).catch((error: unknown) => {
    // Already forgotten by the server (404) is what we want; anything else is worth showing.
    if ((error as { status?: number }).status !== 404) throw error;
  });
  await subscription.unsubscribe();
}

export function base64UrlToBytes(value: string): Uint8Array<ArrayBuffer> {
  const base64 = value
    .replace(/-/g, '+')
    .replace(/_/g, '/')
    .padEnd(Math.ceil(value.length / 4) * 4, '=');
  const binary = atob(base64);
  const bytes = new Uint8Array(new ArrayBuffer(binary.length));
  for (let index = 0; index < binary.length; index++) bytes[index] = binary.charCodeAt(index);
  return bytes;
}

function sameKey(current: ArrayBuffer | null, wanted: Uint8Array): boolean {
  if (!current) return false;
  const bytes = new Uint8Array(current);
  return bytes.length === wanted.length && bytes.every((byte, index) => byte === wanted[index]);
}
