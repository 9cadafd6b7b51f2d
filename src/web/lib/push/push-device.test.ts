import { describe, expect, it } from 'vitest';
import { base64UrlToBytes, currentSubscription, disablePush, enablePush, type PushEnvironment } from './push-device.js';

/** The server's VAPID public key (65 bytes, base64url) and another one. */
const KEY = Buffer.from([4, ...Array.from({ length: 64 }, (_, index) => index)]).toString('base64url');
const OLD_KEY = Buffer.from([4, ...Array.from({ length: 64 }, () => 7)]).toString('base64url');

class FakeSubscription {
  unsubscribed = false;
  constructor(
    readonly endpoint: string,
    key: string,
  ) {
    this.options = { applicationServerKey: base64UrlToBytes(key).buffer };
  }
  readonly options: { applicationServerKey: ArrayBuffer };
  toJSON() {
    return { endpoint: this.endpoint, keys: { p256dh: 'p', auth: 'a' } };
  }
  async unsubscribe() {
    this.unsubscribed = true;
    return true;
  }
}

/** A browser: a registration (active or not) whose push manager hands out subscriptions or refuses. */
function browser(
  options: {
    registered?: boolean;
    active?: boolean;
    permission?: NotificationPermission;
    existing?: FakeSubscription;
    refuse?: Error;
  } = {},
) {
  const calls: string[] = [];
  let subscription = options.existing ?? null;
  const registration = {
    active: options.active === false ? null : {},
    pushManager: {
      getSubscription: async () => subscription,
      subscribe: async ({ applicationServerKey }: { applicationServerKey: Uint8Array }) => {
        calls.push(`subscribe ${Buffer.from(applicationServerKey).toString('base64url')}`);
        if (options.refuse) throw options.refuse;
        subscription = new FakeSubscription('https://push.example.com/new', KEY);
        return subscription;
      },
    },
  };
  const registered = options.registered ?? true;
  const environment: PushEnvironment = {
    serviceWorker: {
      // `ready` never settles without an active worker, as in a browser.
      ready: options.active === false || !registered ? new Promise(() => {}) : Promise.resolve(registration as never),
      getRegistration: async () => (registered ? (registration as never) : undefined),
    },
    Notification: {
      permission: options.permission === 'granted' ? 'granted' : 'default',
      requestPermission: async () => options.permission ?? 'granted',
    },
    readyTimeoutMs: 20,
  };
  const api = {
    async request<T>(method: string, path: string, body?: unknown): Promise<T> {
      calls.push(`${method} ${path}${body ? ` ${JSON.stringify(body)}` : ''}`);
      return (path === '/push/vapid-public-key' ? { key: KEY } : {}) as T;
    },
  };
  return { environment, api, calls, subscription: () => subscription };
}

describe('push on this device', () => {
  it('subscribes with the server’s key and sends the subscription to the server', async () => {
    const { environment, api, calls } = browser();
    const subscription = await enablePush(api, environment);
    expect(subscription.endpoint).toBe('https://push.example.com/new');
    expect(calls).toEqual([
      'GET /push/vapid-public-key',
      `subscribe ${KEY}`,
      `POST /push/subscriptions {"endpoint":"https://push.example.com/new","keys":{"p256dh":"p","auth":"a"}}`,
    ]);
  });

  it('keeps a subscription made with the same key, and replaces one made with another', async () => {
    const same = new FakeSubscription('https://push.example.com/same', KEY);
    const kept = browser({ existing: same });
    expect(await enablePush(kept.api, kept.environment)).toBe(same);
    expect(kept.calls.some((call) => call.startsWith('subscribe'))).toBe(false);

    const old = new FakeSubscription('https://push.example.com/old', OLD_KEY);
    const replaced = browser({ existing: old });
    expect((await enablePush(replaced.api, replaced.environment)).endpoint).toBe('https://push.example.com/new');
    expect(old.unsubscribed).toBe(true);
  });

  it('says why, without waiting, when it cannot: no permission, no service worker, the push service refuses', async () => {
    const denied = browser({ permission: 'denied' });
    await expect(enablePush(denied.api, denied.environment)).rejects.toThrow(/blocked for mainloop/);
    const dismissed = browser({ permission: 'default' });
    await expect(enablePush(dismissed.api, dismissed.environment)).rejects.toThrow(/choose Allow/);
    expect([...denied.calls, ...dismissed.calls]).toEqual([]);

    const none = browser({ registered: false });
    await expect(enablePush(none.api, none.environment)).rejects.toThrow(/service worker is not running/);
    const stuck = browser({ active: false });
    await expect(enablePush(stuck.api, stuck.environment)).rejects.toThrow(/service worker is not running/);

    const refused = browser({
      refuse: Object.assign(new Error('Registration failed - push service not available'), { name: 'AbortError' }),
    });
    await expect(enablePush(refused.api, refused.environment)).rejects.toThrow(
      'This browser could not subscribe to push notifications (it said: “Registration failed - push service not available”).',
    );
    expect(refused.calls.some((call) => call.startsWith('POST'))).toBe(false);
  });

  it('finds no subscription, at once, where no service worker is active', async () => {
    expect(await currentSubscription(browser({ registered: false }).environment)).toBeNull();
    expect(await currentSubscription(browser({ active: false }).environment)).toBeNull();
    expect(await currentSubscription({ serviceWorker: undefined, Notification: undefined })).toBeNull();
  });

  it('disable: the server forgets the device (already forgotten is fine), then the browser drops it', async () => {
    const existing = new FakeSubscription('https://push.example.com/mine', KEY);
    const { environment, api, calls } = browser({ existing });
    await disablePush(api, environment);
    expect(calls).toEqual(['DELETE /push/subscriptions {"endpoint":"https://push.example.com/mine"}']);
    expect(existing.unsubscribed).toBe(true);

    const gone = new FakeSubscription('https://push.example.com/gone', KEY);
    const forgotten = browser({ existing: gone });
    forgotten.api.request = async () => {
      throw Object.assign(new Error('not found'), { status: 404 });
    };
    await disablePush(forgotten.api, forgotten.environment);
    expect(gone.unsubscribed).toBe(true);
  });
});
