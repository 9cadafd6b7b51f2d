import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { PushPayload } from '../../contract/push.js';
import { FakeHttpServer, type RecordedRequest } from '../../../test/fakes/http.js';
import { FakePushService, type FakeDevice } from '../../../test/fakes/push-service.js';
import { startTestServer, type TestServer } from '../../../test/support/server.js';
import { makeRepository, ownerApi } from '../../../test/support/tasks.js';
import { addUser } from '../thread/testing.js';
import { CommandRuntime } from '../workers/index.js';

let server: TestServer;
let pushService: FakePushService;
let channels: FakeHttpServer;
let channelAnswer = 200;
let owner: ReturnType<typeof ownerApi>;
let grace: { userId: string; headers: { authorization: string } };

beforeAll(async () => {
  pushService = await FakePushService.start();
  channels = await FakeHttpServer.start((_request, response) => {
    response.writeHead(channelAnswer).end();
  });
  server = await startTestServer({
    env: { MAINLOOP_MODEL_PROVIDER: 'none', MAINLOOP_VAPID_SUBJECT: 'mailto:owner@example.com' },
    runtimes: [new CommandRuntime()],
  });
  owner = ownerApi(server);
  grace = await addUser(server, 'grace');
}, 60_000);
afterAll(async () => {
  await server?.close();
  await pushService?.close();
  await channels?.close();
});

const api = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object, headers?: object) =>
  server.app.inject({ method, url, headers: { ...server.authHeaders, ...headers }, ...(payload ? { payload } : {}) });

async function subscribe(device: FakeDevice, headers: object = server.authHeaders): Promise<void> {
  const response = await server.app.inject({
    method: 'POST',
    url: '/api/push/subscriptions',
    headers: { ...headers },
    payload: device.subscription,
  });
  expect(response.statusCode, response.body).toBe(201);
}

/** Every due item claimed and every send finished. */
async function settle(): Promise<void> {
  await server.services.pushDispatcher.sweepNow();
  await server.services.pushDispatcher.settled();
}

async function post(item: object): Promise<string> {
  const response = await api('POST', '/api/inbox/items', item);
  expect(response.statusCode, response.body).toBe(201);
  return response.json().item.id;
}

async function pushStateOf(id: string): Promise<string> {
  const row = await server.database.db
    .selectFrom('inbox_items')
    .select('push_state')
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
  return row.push_state;
}

function payloadsFor(device: FakeDevice): PushPayload[] {
  return device.received.map((push) => push.payload as PushPayload);
}

describe('push routes', () => {
  it('answer 401 without credentials', async () => {
    const device = pushService.device();
    for (const [method, url, payload] of [
      ['GET', '/api/push/vapid-public-key', undefined],
      ['POST', '/api/push/subscriptions', device.subscription],
      ['DELETE', '/api/push/subscriptions', { endpoint: device.endpoint }],
    ] as const) {
      const response = await server.app.inject({ method, url, ...(payload ? { payload } : {}) });
      expect(response.statusCode, `${method} ${url}`).toBe(401);
    }
  });

  it('give the VAPID public key made at first start, kept in the database', async () => {
    const first = await api('GET', '/api/push/vapid-public-key');
    expect(first.statusCode).toBe(200);
    const { key } = first.json() as { key: string };
    expect(Buffer.from(key, 'base64url')).toHaveLength(65);
    expect((await api('GET', '/api/push/vapid-public-key')).json().key).toBe(key);
    const stored = await server.database.db.selectFrom('server_keys').select('value').executeTakeFirstOrThrow();
    expect(stored.value).toMatchObject({ publicKey: key });
  });

  it('answer 400 saying what was wrong with a subscription', async () => {
    const good = pushService.device().subscription;
    const cases: Array<[object, string]> = [
      [{ ...good, endpoint: 'ftp://push.example.com/x' }, 'endpoint'],
      [{ ...good, endpoint: 'not a url' }, 'endpoint'],
      [{ ...good, keys: { ...good.keys, p256dh: good.keys.p256dh.slice(0, 40) } }, 'p256dh'],
      [{ ...good, keys: { ...good.keys, p256dh: `${good.keys.p256dh.slice(0, -1)}!` } }, 'p256dh'],
      [{ ...good, keys: { ...good.keys, auth: Buffer.alloc(8).toString('base64url') } }, 'auth'],
      [{ endpoint: good.endpoint }, 'keys'],
    ];
    for (const [payload, field] of cases) {
      const response = await api('POST', '/api/push/subscriptions', payload);
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      expect(response.json().message).toContain(field);
    }
    const missing = await api('DELETE', '/api/push/subscriptions', {});
    expect(missing.statusCode).toBe(400);
    expect(missing.json().message).toContain('endpoint');
  });

  it('store a device once per endpoint, and delete only your own (someone else’s is 404)', async () => {
    const device = pushService.device();
    await subscribe(device);
    await subscribe(device);
    const rows = await server.database.db
      .selectFrom('push_subscriptions')
      .select('id')
      .where('endpoint', '=', device.endpoint)
      .execute();
    expect(rows).toHaveLength(1);

    const theirs = await api('DELETE', '/api/push/subscriptions', { endpoint: device.endpoint }, grace.headers);
    expect(theirs.statusCode).toBe(404);
    const mine = await api('DELETE', '/api/push/subscriptions', { endpoint: device.endpoint });
    expect(mine.statusCode).toBe(204);
    expect((await api('DELETE', '/api/push/subscriptions', { endpoint: device.endpoint })).statusCode).toBe(404);
  });
});

describe('Web Push delivery', () => {
  let phone: FakeDevice;
  let laptop: FakeDevice;

  beforeAll(async () => {
    phone = pushService.device();
    laptop = pushService.device();
    await subscribe(phone);
    await subscribe(laptop);
  });

  it('pushes an urgent external item once to every device, encrypted and VAPID-signed', async () => {
    const id = await post({ title: 'Prod is down', body: 'p99 > 5 s', priority: 'urgent', dedupeKey: 'prod-down' });
    await pushService.waitFor(2);
    await settle();
    const { key } = (await api('GET', '/api/push/vapid-public-key')).json() as { key: string };
    for (const device of [phone, laptop]) {
      expect(device.received).toHaveLength(1);
      const [push] = device.received;
      expect(push!.payload).toEqual({
        itemId: id,
        kind: 'external',
        priority: 'urgent',
        title: 'Prod is down',
        body: 'p99 > 5 s',
        url: '/',
        replies: ['done', 'snooze'],
        actions: [],
      });
      expect(push).toMatchObject({
        urgency: 'high',
        ttl: 86_400,
        vapid: { aud: pushService.url, publicKey: key, sub: 'mailto:owner@example.com' },
      });
    }
    expect(await pushStateOf(id)).toBe('sent');
    const deliveries = await server.database.db
      .selectFrom('push_deliveries')
      .select(['target', 'status'])
      .where('item_id', '=', id)
      .execute();
    expect(deliveries).toHaveLength(2);
    expect(deliveries.every((row) => row.status === 'sent')).toBe(true);

    // the same dedupeKey again updates the item: no second push
    await post({ title: 'Prod is still down', priority: 'urgent', dedupeKey: 'prod-down' });
    await settle();
    expect(phone.received).toHaveLength(1);
  });

  it('does not push a normal item', async () => {
    const before = pushService.received.length;
    const id = await post({ title: 'FYI: backup done', priority: 'normal' });
    await settle();
    expect(pushService.received).toHaveLength(before);
    expect(await pushStateOf(id)).toBe('none');
  });

  it('holds pushes in quiet hours, skips what was resolved meanwhile, and sends one digest when they end', async () => {
    const hour = new Date().getUTCHours();
    const hh = (h: number) => `${String((h + 24) % 24).padStart(2, '0')}:00`;
    const quiet = await api('PATCH', '/api/settings', {
      timeZone: 'UTC',
      quietHours: { start: hh(hour - 1), end: hh(hour + 2) },
    });
    expect(quiet.statusCode, quiet.body).toBe(200);
    const before = phone.received.length;
    const first = await post({ title: 'Review the release notes', priority: 'high' });
    const second = await post({ title: 'Approve the budget', priority: 'high' });
    const third = await post({ title: 'Renew the certificate', priority: 'high' });
    const urgent = await post({ title: 'Disk full', priority: 'urgent' });
    await settle();
    expect(
      payloadsFor(phone)
        .slice(before)
        .map((payload) => payload.itemId),
    ).toEqual([urgent]);
    expect(await Promise.all([first, second, third].map(pushStateOf))).toEqual(['held', 'held', 'held']);

    expect((await api('POST', `/api/inbox/items/${second}/done`)).statusCode).toBe(200);
    expect(await pushStateOf(second)).toBe('skipped');

    await api('PATCH', '/api/settings', { quietHours: null });
    await settle();
    const digests = payloadsFor(phone).slice(before + 1);
    expect(digests).toHaveLength(1);
    expect(digests[0]).toMatchObject({
      kind: 'digest',
      title: '2 things need you: Review the release notes, Renew the certificate',
      itemIds: [first, third],
      url: '/',
    });
    expect(payloadsFor(laptop).slice(-1)[0]).toEqual(digests[0]);
    expect(await Promise.all([first, second, third].map(pushStateOf))).toEqual(['sent', 'skipped', 'sent']);
    await settle();
    expect(phone.received).toHaveLength(before + 2);
  });

  it('forgets a device its push service says is gone (410), and records a failing one without blocking the others', async () => {
    const gone = pushService.device();
    const failing = pushService.device();
    await subscribe(gone);
    await subscribe(failing);
    gone.status = 410;
    failing.status = 500;
    const id = await post({ title: 'Card expiring', priority: 'urgent' });
    await settle();
    expect(phone.received.at(-1)!.payload).toMatchObject({ itemId: id });
    expect(gone.received).toHaveLength(1);
    const endpoints = await server.database.db.selectFrom('push_subscriptions').select('endpoint').execute();
    expect(endpoints.map((row) => row.endpoint)).not.toContain(gone.endpoint);
    expect(endpoints.map((row) => row.endpoint)).toContain(failing.endpoint);
    const failed = await server.database.db
      .selectFrom('push_deliveries')
      .select(['status', 'error'])
      .where('item_id', '=', id)
      .where('status', '=', 'failed')
      .execute();
    expect(failed).toHaveLength(2);
    expect(failed.map((row) => row.error).sort()).toEqual([
      'the push service answered 410: the subscription is gone',
      'the push service answered 500',
    ]);
    // never retried into a duplicate
    await settle();
    expect(failing.received).toHaveLength(1);
    await api('DELETE', '/api/push/subscriptions', { endpoint: failing.endpoint });
  });

  it('pushes a worker’s review item once, with Approve', async () => {
    const repo = await makeRepository();
    const project = await api('POST', '/api/projects', { repo: { kind: 'local', path: repo }, checkCommand: 'true' });
    expect(project.statusCode, project.body).toBe(201);
    const task = await owner.createTask({
      title: 'Write the notes',
      prompt: 'x',
      runtime: 'command',
      command: 'echo notes > NOTES.md',
      projectId: project.json().project.id,
    });
    await owner.waitForTask(task.id, (t) => t.status === 'awaiting_review', { failFast: true });
    await settle();
    const reviews = payloadsFor(phone).filter((payload) => payload.taskId === task.id);
    expect(reviews).toEqual([
      expect.objectContaining({
        kind: 'review',
        title: `Ready for review: #${task.number} Write the notes`,
        url: `/tasks/${task.id}`,
        actions: [{ action: 'approve', title: 'Approve' }],
      }),
    ]);
    expect(phone.received.find((push) => (push.payload as PushPayload).taskId === task.id)!.urgency).toBe('high');
    await settle();
    expect(payloadsFor(phone).filter((payload) => payload.taskId === task.id)).toHaveLength(1);
  });
});

describe('outbound channels', () => {
  const secret = 'a-shared-secret-for-the-webhook';

  beforeEach(() => {
    channelAnswer = 200;
  });

  it('validate the URLs and never show the webhook secret', async () => {
    for (const notifications of [
      { ntfyUrl: 'ftp://ntfy.example.com/topic' },
      { slackWebhookUrl: 'javascript:alert(1)' },
      { webhookUrl: 'https://user:pass@example.com/hook' },
      { webhookSecret: 'short' },
      { pagerUrl: 'https://example.com' },
    ]) {
      const response = await api('PATCH', '/api/settings', { notifications });
      expect(response.statusCode, JSON.stringify(notifications)).toBe(400);
      expect(response.json().message).toContain(Object.keys(notifications)[0]);
    }
    const quiet = await api('PATCH', '/api/settings', { quietHours: { start: '25:00', end: '07:00' } });
    expect(quiet.statusCode).toBe(400);
    expect(quiet.json().message).toContain('quietHours.start');

    const set = await api('PATCH', '/api/settings', {
      notifications: {
        ntfyUrl: `${channels.url}/ntfy/mainloop-topic`,
        slackWebhookUrl: `${channels.url}/slack/T0/B0/x`,
        webhookUrl: `${channels.url}/hook`,
        webhookSecret: secret,
      },
    });
    expect(set.statusCode, set.body).toBe(200);
    expect(set.body).not.toContain(secret);
    expect(set.json().settings.notifications).toEqual({
      ntfyUrl: `${channels.url}/ntfy/mainloop-topic`,
      slackWebhookUrl: `${channels.url}/slack/T0/B0/x`,
      webhookUrl: `${channels.url}/hook`,
      webhookSecretSet: true,
    });
    // a channel not named stays; null clears one
    const cleared = await api('PATCH', '/api/settings', { notifications: { slackWebhookUrl: null } });
    expect(cleared.json().settings.notifications).toEqual({
      ntfyUrl: `${channels.url}/ntfy/mainloop-topic`,
      webhookUrl: `${channels.url}/hook`,
      webhookSecretSet: true,
    });
    await api('PATCH', '/api/settings', { notifications: { slackWebhookUrl: `${channels.url}/slack/T0/B0/x` } });
    const events = await server.database.db
      .selectFrom('events')
      .select('data')
      .where('type', '=', 'settings.updated')
      .execute();
    expect(JSON.stringify(events)).not.toContain(secret);
    expect((await api('GET', '/api/settings')).body).not.toContain(secret);
  });

  it('send an item to ntfy, Slack and the signed webhook', async () => {
    const from = channels.requests.length;
    const id = await post({
      title: 'Release blocked — needs you',
      body: 'two approvals missing',
      priority: 'high',
      url: '/tasks/abc',
    });
    await settle();
    const sent = channels.requests.slice(from);
    const byPath = (prefix: string) => sent.filter((request) => request.path.startsWith(prefix));
    expect(sent).toHaveLength(3);

    const [ntfy] = byPath('/ntfy/mainloop-topic') as [RecordedRequest];
    expect(ntfy.method).toBe('POST');
    expect(ntfy.body).toBe('two approvals missing');
    expect(ntfy.headers.priority).toBe('4');
    expect(ntfy.headers.tags).toBe('external');
    expect(ntfy.headers.click).toBe(`${server.url}/tasks/abc`);
    // non-ASCII title as an RFC 2047 encoded-word
    const title = /^=\?UTF-8\?B\?(.+)\?=$/.exec(String(ntfy.headers.title))![1]!;
    expect(Buffer.from(title, 'base64').toString('utf8')).toBe('Release blocked — needs you');

    const [slack] = byPath('/slack/') as [RecordedRequest];
    expect(slack.body).toMatchObject({
      text: `<${server.url}/tasks/abc|Release blocked — needs you>\ntwo approvals missing`,
      blocks: [{ type: 'section', text: { type: 'mrkdwn' } }],
    });

    const [hook] = byPath('/hook') as [RecordedRequest];
    const raw = JSON.stringify(hook.body);
    expect(hook.headers['x-mainloop-signature']).toBe(
      `sha256=${createHmac('sha256', secret).update(raw).digest('hex')}`,
    );
    expect(Number(hook.headers['x-mainloop-timestamp'])).toBeCloseTo(Date.now() / 1000, -2);
    expect(hook.body).toMatchObject({
      event: 'inbox.item',
      item: { id, title: 'Release blocked — needs you', priority: 'high' },
    });
    for (const request of sent) expect(JSON.stringify(request.headers)).not.toContain(secret);
  });

  it('record a failing channel and never send it again', async () => {
    channelAnswer = 500;
    const from = channels.requests.length;
    const id = await post({ title: 'Flaky', priority: 'urgent' });
    await settle();
    await settle();
    expect(channels.requests.slice(from)).toHaveLength(3);
    const rows = await server.database.db
      .selectFrom('push_deliveries')
      .select(['target', 'status'])
      .where('item_id', '=', id)
      .where('target', 'in', ['ntfy', 'slack', 'webhook'])
      .orderBy('target')
      .execute();
    expect(rows).toEqual([
      { target: 'ntfy', status: 'failed' },
      { target: 'slack', status: 'failed' },
      { target: 'webhook', status: 'failed' },
    ]);
    await api('PATCH', '/api/settings', { notifications: { ntfyUrl: null, slackWebhookUrl: null, webhookUrl: null } });
  });
});
