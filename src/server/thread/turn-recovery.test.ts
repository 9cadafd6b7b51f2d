import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Message } from '../../contract/thread.js';
import { anthropicScenario, FakeAnthropicApi } from '../../../test/fakes/anthropic-api.js';
import { startTestServer, type TestServer } from '../../../test/support/server.js';
import { MessageRepository, toMessage } from './message.repository.js';
import { EventStreamClient, ownerIdOf, settledReply } from './testing.js';
import { INTERRUPTED_ERROR } from './turn.service.js';
import { FIRST_TURN_ID_PREFIX, firstTurnId } from './turn.workflow.js';

/**
 * The start-up sweep, run in process against the states a crash leaves behind (the kill test in
 * test/lifecycle/turn-crash.test.ts does it for real).
 */
let fake: FakeAnthropicApi;
let server: TestServer;
let ownerId: string;
let stream: EventStreamClient;
const messages = new MessageRepository();

beforeAll(async () => {
  fake = await FakeAnthropicApi.start();
  server = await startTestServer({ env: { ANTHROPIC_API_KEY: fake.apiKey, ANTHROPIC_BASE_URL: fake.url } });
  ownerId = await ownerIdOf(server);
  stream = await EventStreamClient.open(server);
});
afterAll(async () => {
  stream?.close();
  await server?.close();
  await fake?.close();
});

async function send(content: string): Promise<{ message: Message; reply: Message }> {
  const response = await server.app.inject({
    method: 'POST',
    url: '/api/thread/messages',
    headers: server.authHeaders,
    payload: { content, clientId: `recovery-${content}` },
  });
  expect(response.statusCode).toBe(202);
  const message = response.json().message as Message;
  return { message, reply: await settledReply(server, message.id) };
}

/** Puts a finished reply back to `streaming` once its workflow has ended too, as if the turn had stopped without ending it. */
async function setStreaming(reply: Message, userMessageId: string): Promise<void> {
  await vi.waitFor(
    async () => {
      const { rows } = await sql<{ status: string }>`
        select status from dbos.workflow_status where workflow_uuid = ${firstTurnId(userMessageId)}`.execute(
        server.database.db,
      );
      expect(rows[0]?.status).toBe('SUCCESS');
    },
    { timeout: 10_000, interval: 20 },
  );
  await server.database.db
    .updateTable('messages')
    .set({ status: 'streaming' })
    .where('id', '=', reply.id as never)
    .execute();
}

describe('the start-up sweep', () => {
  it('starts the turn of a message stored just before a crash (its turn never started)', async () => {
    const db = server.database.db;
    const { message } = (await messages.insertUserWithReply(db, {
      userId: ownerId,
      clientId: 'crashed-before-start',
      content: 'Are you there?',
      turnIdPrefix: FIRST_TURN_ID_PREFIX,
    }))!;
    fake.enqueue(anthropicScenario.text('I am here.'));

    expect(await server.services.turnRecovery.run()).toEqual({ started: 1, interrupted: 0 });
    expect(await settledReply(server, message.id)).toMatchObject({ status: 'complete', content: 'I am here.' });
    // running it again starts nothing twice
    expect(await server.services.turnRecovery.run()).toEqual({ started: 0, interrupted: 0 });
  });

  it('ends in error a reply whose turn is over without having finished it, and Retry runs it again', async () => {
    fake.enqueue(anthropicScenario.text('First answer.'));
    const { message, reply } = await send('Question one');
    await setStreaming(reply, message.id);

    expect(await server.services.turnRecovery.run()).toEqual({ started: 0, interrupted: 1 });
    const interrupted = toMessage((await messages.findById(server.database.db, ownerId, reply.id))!);
    expect(interrupted).toMatchObject({ status: 'error', error: INTERRUPTED_ERROR, content: 'First answer.' });
    await stream.waitFor(() =>
      stream
        .about(reply.id)
        .some(
          (event) =>
            event.type === 'message.completed' &&
            (event.data as { message: Message }).message.error === INTERRUPTED_ERROR,
        ),
    );

    fake.enqueue(anthropicScenario.text('Second try.'));
    const retry = await server.app.inject({
      method: 'POST',
      url: `/api/thread/messages/${reply.id}/retry`,
      headers: server.authHeaders,
    });
    expect(retry.statusCode).toBe(202);
    expect(await settledReply(server, message.id)).toMatchObject({ status: 'complete', content: 'Second try.' });
  });

  it('ends in error a reply whose pending turn belongs to another version (DBOS would never resume it)', async () => {
    fake.enqueue(anthropicScenario.text('Old answer.'));
    const { message, reply } = await send('Question two');
    await setStreaming(reply, message.id);
    await sql`update dbos.workflow_status set status = 'PENDING', application_version = '0.0.0-older'
              where workflow_uuid = ${firstTurnId(message.id)}`.execute(server.database.db);

    expect(await server.services.turnRecovery.run()).toEqual({ started: 0, interrupted: 1 });
    expect(toMessage((await messages.findById(server.database.db, ownerId, reply.id))!).status).toBe('error');
    const { rows } = await sql<{ status: string }>`
      select status from dbos.workflow_status where workflow_uuid = ${firstTurnId(message.id)}`.execute(
      server.database.db,
    );
    expect(rows[0]?.status).toBe('CANCELLED'); // never resumed later by an instance of that version
  });

  it('leaves alone a reply whose turn is still running', async () => {
    fake.enqueue(anthropicScenario.slow(150, 'Taking ', 'my ', 'time.'));
    const response = await server.app.inject({
      method: 'POST',
      url: '/api/thread/messages',
      headers: server.authHeaders,
      payload: { content: 'Slow one', clientId: 'recovery-slow' },
    });
    const message = response.json().message as Message;
    expect(await server.services.turnRecovery.run()).toEqual({ started: 0, interrupted: 0 });
    expect(await settledReply(server, message.id)).toMatchObject({ status: 'complete', content: 'Taking my time.' });
  });
});
