import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '../../contract/thread.js';
import { FakeOpenAiCompatibleApi, openAiScenario } from '../../../test/fakes/openai-compatible-api.js';
import { startTestServer, type TestServer } from '../../../test/support/server.js';
import { IdleTaskRunner } from '../tasks/index.js';
import { settledReply } from './testing.js';

/**
 * The model's own past actions reach it as actions on an OpenAI-compatible server too: a later
 * turn sends the earlier turn's calls as `tool_calls` answered by `role: "tool"` messages (the
 * fake refuses a conversation whose calls and answers do not pair up, as OpenAI does). The
 * Anthropic API's `tool_use`/`tool_result` blocks: thread.routes.test.ts.
 */
let fake: FakeOpenAiCompatibleApi;
let server: TestServer;

beforeAll(async () => {
  fake = await FakeOpenAiCompatibleApi.start();
  server = await startTestServer({
    env: {
      MAINLOOP_MODEL_PROVIDER: 'openai-compatible',
      OPENAI_BASE_URL: fake.baseUrl,
      MAINLOOP_MODEL: 'llama3.2:latest',
    },
    taskRunner: new IdleTaskRunner(),
  });
});
afterAll(async () => {
  await server?.close();
  await fake?.close(); // fails if the fake saw a request it was not scripted for, or refused one
});

async function send(content: string, clientId: string): Promise<Message> {
  const response = await server.app.inject({
    method: 'POST',
    url: '/api/thread/messages',
    headers: server.authHeaders,
    payload: { content, clientId },
  });
  expect(response.statusCode, response.body).toBe(202);
  return settledReply(server, (response.json().message as Message).id);
}

describe('earlier tool calls on an OpenAI-compatible server', () => {
  it('go back to the model as tool_calls and tool messages, each with its result', async () => {
    fake.enqueue(
      openAiScenario.toolCall({ id: 'call_earlier_list', name: 'list_tasks', arguments: { status: 'failed' } }),
      openAiScenario.text('Nothing has failed.'),
    );
    const first = await send('Anything broken?', 'openai-1');
    expect(first).toMatchObject({ status: 'complete', content: 'Nothing has failed.' });

    fake.enqueue(openAiScenario.text('Still nothing.'));
    const second = await send('And now?', 'openai-2');
    expect(second.status).toBe('complete');

    const { messages } = fake.completionRequests.at(-1)!.body as { messages: Array<Record<string, unknown>> };
    expect(messages.slice(1)).toEqual([
      { role: 'user', content: 'Anything broken?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          {
            id: 'call_earlier_list',
            type: 'function',
            function: { name: 'list_tasks', arguments: '{"status":"failed"}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'call_earlier_list', content: '{"tasks":[]}' },
      { role: 'assistant', content: 'Nothing has failed.' },
      { role: 'user', content: 'And now?' },
    ]);
  });
});
