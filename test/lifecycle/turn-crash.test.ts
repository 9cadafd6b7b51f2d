import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '../../src/contract/thread.js';
import { freePort } from '../../src/server/db/embedded-postgres.js';
import { anthropicScenario, FakeAnthropicApi } from '../fakes/anthropic-api.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { ChildNode, poll } from './helpers/processes.js';

/**
 * The real entry point (src/server/main.ts through tsx) as a child process on a test database,
 * killed with SIGKILL while a reply streams from a slow fake model, then started again: the reply
 * must end — completed by the resumed turn, or in error — and never stay `streaming`.
 */
const TOKEN = 'turn-crash-test-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
const HEALTHY_WITHIN_MS = 90_000;

let fake: FakeAnthropicApi;
let database: TestDatabase;
let client: pg.Client;
const directories: string[] = [];
const running: ChildNode[] = [];

beforeAll(async () => {
  fake = await FakeAnthropicApi.start();
  database = await createTestDatabase();
  client = new pg.Client({ connectionString: database.url });
  await client.connect();
});
afterEach(async () => {
  for (const node of running.splice(0)) await node.kill();
});
afterAll(async () => {
  await client?.end();
  await database?.drop();
  for (const directory of directories) await rm(directory, { recursive: true, force: true });
  await fake?.close();
});

async function tempDir(prefix: string): Promise<string> {
  const directory = await mkdtemp(path.join(os.tmpdir(), prefix));
  directories.push(directory);
  return directory;
}

async function startMainloop(env: Record<string, string>): Promise<{ node: ChildNode; url: string }> {
  const port = await freePort();
  const node = new ChildNode('src/server/main.ts', {
    env: {
      DATABASE_URL: database.url,
      MAINLOOP_DATA_DIR: await tempDir('mainloop-turn-crash-'),
      PORT: String(port),
      MAINLOOP_API_TOKEN: TOKEN,
      LOG_LEVEL: 'info',
      // no Claude subscription from this machine's own sign-in
      CLAUDE_CONFIG_DIR: await tempDir('mainloop-turn-crash-claude-'),
      ...env,
    },
  });
  running.push(node);
  const url = `http://127.0.0.1:${port}`;
  // Ready once the owner's token works (start-up writes run right after the server listens).
  await poll(`${url} to be ready`, HEALTHY_WITHIN_MS, async () => {
    node.assertRunning();
    const response = await fetch(`${url}/api/providers`, { headers: auth }).catch(() => undefined);
    return response?.ok ? true : undefined;
  });
  return { node, url };
}

const withFakeModel = () => ({ ANTHROPIC_API_KEY: fake.apiKey, ANTHROPIC_BASE_URL: fake.url });

async function postMessage(url: string, content: string): Promise<Message> {
  const response = await fetch(`${url}/api/thread/messages`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ content, clientId: `crash-${content}` }),
  });
  expect(response.status, await response.clone().text()).toBe(202);
  return ((await response.json()) as { message: Message }).message;
}

async function replyRow(userMessageId: string) {
  const { rows } = await client.query<{ id: string; status: string; content: string; error: string | null }>(
    'select id::text, status, content, error from messages where reply_to = $1',
    [userMessageId],
  );
  return rows[0];
}

async function replyEvents(replyId: string) {
  const { rows } = await client.query<{
    id: string;
    type: string;
    data: { messageId?: string; text?: string; message?: Message };
  }>(
    `select id::text, type, data from events
     where data->>'messageId' = $1 or data->'message'->>'id' = $1 order by id`,
    [replyId],
  );
  return rows;
}

/** Kills the server once the reply has streamed some of its text. */
async function killWhileStreaming(node: ChildNode, userMessageId: string): Promise<string> {
  const replyId = await poll('the reply to stream', 30_000, async () => {
    const reply = await replyRow(userMessageId);
    if (!reply) return undefined;
    const deltas = (await replyEvents(reply.id)).filter((event) => event.type === 'message.delta');
    return deltas.length >= 2 ? reply.id : undefined;
  });
  await node.kill();
  expect((await replyRow(userMessageId))?.status).toBe('streaming');
  return replyId;
}

describe('a server killed in the middle of a turn', () => {
  it('resumes the turn after a restart: the reply starts over from its checkpoint and completes, with no duplicated text', async () => {
    const words = Array.from({ length: 40 }, (_, index) => `word${index} `);
    fake.enqueue(anthropicScenario.slow(150, ...words));
    const first = await startMainloop(withFakeModel());
    const message = await postMessage(first.url, 'Write me something long');
    const replyId = await killWhileStreaming(first.node, message.id);
    const lastEventBeforeKill = Number((await replyEvents(replyId)).at(-1)!.id);

    fake.enqueue(anthropicScenario.text('A fresh ', 'answer after the restart.'));
    await startMainloop(withFakeModel());
    const reply = await poll('the reply to end', 60_000, async () => {
      const row = await replyRow(message.id);
      return row && row.status !== 'streaming' ? row : undefined;
    });
    expect(reply).toMatchObject({ status: 'complete', content: 'A fresh answer after the restart.' });

    // Devices were told to start the reply over (from empty) before its new text arrived.
    const after = (await replyEvents(replyId)).filter((event) => Number(event.id) > lastEventBeforeKill);
    expect(after[0]).toMatchObject({
      type: 'message.created',
      data: { message: { id: replyId, status: 'streaming', content: '' } },
    });
    const streamed = after
      .filter((event) => event.type === 'message.delta')
      .map((event) => event.data.text)
      .join('');
    expect(streamed).toBe('A fresh answer after the restart.');
    expect(after.at(-1)).toMatchObject({ type: 'message.completed', data: { message: { status: 'complete' } } });
    expect(fake.messageRequests).toHaveLength(2); // the one cut off, and the one that resumed it
  });

  it('stopped gracefully (SIGTERM) mid-turn, leaves the turn to resume at the next start', async () => {
    fake.enqueue(anthropicScenario.slow(150, ...Array.from({ length: 40 }, (_, index) => `slow${index} `)));
    const first = await startMainloop(withFakeModel());
    const message = await postMessage(first.url, 'One to stop politely');
    const replyId = await poll('the reply to stream', 30_000, async () => {
      const reply = await replyRow(message.id);
      if (!reply) return undefined;
      return (await replyEvents(reply.id)).some((event) => event.type === 'message.delta') ? reply.id : undefined;
    });
    first.node.child.kill('SIGTERM');
    expect(await first.node.waitForExit(20_000)).toEqual({ code: 0, signal: null });
    expect((await replyRow(message.id))?.status).toBe('streaming');

    fake.enqueue(anthropicScenario.text('Picked up where it stopped.'));
    await startMainloop(withFakeModel());
    const reply = await poll('the reply to end', 60_000, async () => {
      const row = await replyRow(message.id);
      return row && row.status !== 'streaming' ? row : undefined;
    });
    expect(reply).toMatchObject({ id: replyId, status: 'complete', content: 'Picked up where it stopped.' });
  });

  it('ends the reply in error with Retry when the resumed turn cannot reach a model', async () => {
    fake.enqueue(anthropicScenario.slow(150, ...Array.from({ length: 40 }, (_, index) => `more${index} `)));
    const first = await startMainloop(withFakeModel());
    const message = await postMessage(first.url, 'Another long one');
    const replyId = await killWhileStreaming(first.node, message.id);

    const second = await startMainloop({ MAINLOOP_MODEL_PROVIDER: 'none' });
    const reply = await poll('the reply to end', 60_000, async () => {
      const row = await replyRow(message.id);
      return row && row.status !== 'streaming' ? row : undefined;
    });
    expect(reply.status).toBe('error');
    expect(reply.error).toContain('No model provider is configured');

    const retry = await fetch(`${second.url}/api/thread/messages/${replyId}/retry`, { method: 'POST', headers: auth });
    expect(retry.status).toBe(202);
  });
});
