import type { PushSubscriptionRequest, VapidPublicKeyResponse } from '../../../contract/push.js';
import type { ApiClient } from '../api/client.js';

/** What this device can do about Web Push, as the browser says. */
export type PushSupport = 'supported' | 'unsupported' | 'denied';

/** The browser's parts this needs; a test passes fakes. */
export interface PushEnvironment {
  serviceWorker: Pick<ServiceWorkerContainer, 'ready' | 'getRegistration'> | undefined;
  Notification: Pick<typeof Notification, 'permission' | 'requestPermission'> | undefined;
  /** how long a registered service worker may take to become active (default 10 s) */
  readyTimeoutMs?: number;
}

const READY_TIMEOUT_MS = 10_000;

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

/**
 * This device's subscription, if it has one. Never waits for `serviceWorker.ready`, which does not
 * settle while no service worker is registered (development, a registration that failed, a
 * browser that blocks them): no worker, no subscription.
 */
export async function currentSubscription(environment: PushEnvironment): Promise<PushSubscription | null> {
  if (!environment.serviceWorker) return null;
  const registration = await environment.serviceWorker.getRegistration();
  if (!registration?.active) return null;
  return registration.pushManager.getSubscription();
}

/**
 * "Enable on this device": permission, then a subscription with the server's VAPID key, then
 * POST /api/push/subscriptions. A subscription made with another key (the server's keys changed)
 * is replaced.
 */
export async function enablePush(
  api: Pick<ApiClient, 'request'>,
  environment: PushEnvironment,
): Promise<PushSubscription> {
  if (!environment.serviceWorker || !environment.Notification) {
    throw new Error(
      'This browser cannot receive push notifications (on iPhone: add mainloop to the home screen first).',
    );
  }
  const permission = await environment.Notification.requestPermission();
  if (permission === 'denied') throw new Error('Notifications are blocked for mainloop in this browser’s settings.');
  if (permission !== 'granted') {
    throw new Error('Push needs your permission: choose Allow when the browser asks for notifications.');
  }
  const registration = await activeRegistration(environment.serviceWorker, environment.readyTimeoutMs);
  const { key } = await api.request<VapidPublicKeyResponse>('GET', '/push/vapid-public-key');
  const applicationServerKey = base64UrlToBytes(key);
  let subscription = await registration.pushManager.getSubscription();
  if (subscription && !sameKey(subscription.options.applicationServerKey, applicationServerKey)) {
    await subscription.unsubscribe();
    subscription = null;
  }
  subscription ??= await registration.pushManager
    .subscribe({ userVisibleOnly: true, applicationServerKey })
    .catch((error: unknown) => {
      throw new Error(subscribeRefusal(error), { cause: error });
    });
  await api.request('POST', '/push/subscriptions', subscription.toJSON() as PushSubscriptionRequest);
  return subscription;
}

/** The service worker that will receive the pushes, once active; a plain error when there is none. */
async function activeRegistration(
  serviceWorker: NonNullable<PushEnvironment['serviceWorker']>,
  timeoutMs = READY_TIMEOUT_MS,
): Promise<ServiceWorkerRegistration> {
  const noWorker = new Error(
    'mainloop’s service worker is not running in this browser, and it is what receives pushes. Reload the page and try again; private windows and browsers that block site data cannot receive pushes.',
  );
  if (!(await serviceWorker.getRegistration())) throw noWorker;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      serviceWorker.ready,
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(noWorker), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Why the browser gave no subscription, in words a person can act on. */
function subscribeRefusal(error: unknown): string {
  const reason = error instanceof Error && error.message ? ` (it said: “${error.message}”)` : '';
  return `This browser could not subscribe to push notifications${reason}. Push needs a browser with a push service, and does not work in private windows; on iPhone, add mainloop to the home screen first. ntfy, Slack or a webhook below work anywhere.`;
}

/** "Disable": the server forgets this device, then the browser drops the subscription. */
export async function disablePush(api: Pick<ApiClient, 'request'>, environment: PushEnvironment): Promise<void> {
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
