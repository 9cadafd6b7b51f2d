import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/server/db/embedded-postgres.js';
import { FakePushService } from '../fakes/push-service.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { ChildNode, poll } from './helpers/processes.js';

/**
 * At most once, ever: the real entry point on one database (DATABASE_URL), killed with SIGKILL
 * while its push is in flight (the push service holds its answer), then started again, and
 * stopped gracefully and started again. Nothing is sent a second time.
 */
const TOKEN = 'push-restart-test-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

let database: TestDatabase;
let pushService: FakePushService;
const running: ChildNode[] = [];
const directories: string[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  pushService = await FakePushService.start();
});
afterEach(async () => {
  for (const node of running.splice(0)) await node.kill();
});
afterAll(async () => {
  await pushService?.close();
  await database?.drop();
  for (const directory of directories) await rm(directory, { recursive: true, force: true });
});

async function startMainloop(): Promise<{ node: ChildNode; url: string }> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mainloop-push-restart-'));
  directories.push(dataDir);
  const port = await freePort();
  const node = new ChildNode('src/server/main.ts', {
    env: {
      DATABASE_URL: database.url,
      MAINLOOP_DATA_DIR: dataDir,
      PORT: String(port),
      MAINLOOP_API_TOKEN: TOKEN,
      MAINLOOP_MODEL_PROVIDER: 'none',
      LOG_LEVEL: 'warn',
    },
  });
  running.push(node);
  const url = `http://127.0.0.1:${port}`;
  await poll(`${url} to be healthy`, 60_000, async () => {
    node.assertRunning();
    const response = await fetch(`${url}/api/health`).catch(() => undefined);
    return response?.ok ? true : undefined;
  });
  return { node, url };
}

async function call(url: string, method: string, body?: unknown): Promise<Response> {
  const response = await fetch(url, { method, headers: auth, ...(body ? { body: JSON.stringify(body) } : {}) });
  expect(response.ok, `${method} ${url}: ${response.status}`).toBe(true);
  return response;
}

async function deliveries(): Promise<Array<{ item_id: string; status: string }>> {
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    return (await client.query('select item_id, status from push_deliveries order by attempted_at')).rows;
  } finally {
    await client.end();
  }
}

const sweeps = () => new Promise((resolve) => setTimeout(resolve, 5_000));

describe('a push in flight when the server dies', () => {
  it('is never sent again: not after a SIGKILL mid-send, not after a graceful restart', async () => {
    const device = pushService.device();
    const first = await startMainloop();
    await call(`${first.url}/api/push/subscriptions`, 'POST', device.subscription);

    pushService.hold();
    const posted = await call(`${first.url}/api/inbox/items`, 'POST', { title: 'Prod is down', priority: 'urgent' });
    const { item } = (await posted.json()) as { item: { id: string } };
    await poll('the push to be in flight', 60_000, () => (pushService.waiting === 1 ? true : undefined));
    await first.node.kill();
    pushService.release();
    expect(pushService.requests).toBe(1);
    expect(await deliveries()).toEqual([{ item_id: item.id, status: 'sending' }]);

    const second = await startMainloop();
    await sweeps();
    expect(pushService.requests).toBe(1);
    const next = await call(`${second.url}/api/inbox/items`, 'POST', { title: 'Still down', priority: 'urgent' });
    const { item: nextItem } = (await next.json()) as { item: { id: string } };
    await poll('the next push', 60_000, () => (pushService.received.length === 2 ? true : undefined));
    expect(pushService.received.map((push) => (push.payload as { itemId: string }).itemId)).toEqual([
      item.id,
      nextItem.id,
    ]);

    second.node.child.kill('SIGTERM');
    await second.node.waitForExit(60_000);
    await startMainloop();
    await sweeps();
    expect(pushService.requests).toBe(2);
    expect(await deliveries()).toEqual([
      { item_id: item.id, status: 'sending' },
      { item_id: nextItem.id, status: 'sent' },
    ]);
  });
});
