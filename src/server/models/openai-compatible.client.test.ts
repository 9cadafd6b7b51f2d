import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FakeOpenAiCompatibleApi, openAiScenario } from '../../../test/fakes/openai-compatible-api.js';
import { collect, drain, textOf } from '../../../test/fakes/stream.js';
import type { ModelRequest, ModelTool } from './model-client.js';
import { OpenAiCompatibleModelClient } from './openai-compatible.client.js';
import { RetryingModelClient } from './retrying.client.js';

const listTasks: ModelTool = {
  name: 'list_tasks',
  description: 'List the tasks, optionally by status',
  inputSchema: z.object({ status: z.enum(['queued', 'implementing', 'failed']).optional() }),
};

const hello: ModelRequest = { system: 'You are mainloop.', messages: [{ role: 'user', content: 'Hello?' }] };

let fake: FakeOpenAiCompatibleApi;
let delays: number[];

beforeEach(async () => {
  fake = await FakeOpenAiCompatibleApi.start({ apiKey: 'sk-local-test', models: ['qwen3:8b', 'llama3.2:latest'] });
  delays = [];
});
afterEach(async () => {
  await fake.close();
});

function client(options: { apiKey?: string; model?: string | null } = {}) {
  return new OpenAiCompatibleModelClient({
    baseUrl: fake.baseUrl,
    apiKey: options.apiKey ?? 'sk-local-test',
    model: options.model === null ? undefined : (options.model ?? 'llama3.2:latest'),
  });
}

function retrying(options: { apiKey?: string } = {}) {
  return new RetryingModelClient(client(options), { sleep: async (ms) => void delays.push(ms), random: () => 0.5 });
}

describe('OpenAiCompatibleModelClient against the fake chat completions server', () => {
  it('streams a plain reply as text deltas, in order, with the usage from the last chunk', async () => {
    fake.enqueue({ ...openAiScenario.text('Hi', ' there', '!'), usage: { promptTokens: 42, completionTokens: 3 } });

    const events = await collect(client().stream(hello));

    expect(textOf(events)).toEqual(['Hi', ' there', '!']);
    expect(events.at(-1)).toEqual({
      type: 'finish',
      stopReason: 'end_turn',
      usage: { inputTokens: 42, outputTokens: 3 },
      costUsd: undefined, // a local model has no list price
      model: 'llama3.2:latest',
    });
    const [request] = fake.completionRequests;
    expect(request?.headers.authorization).toBe('Bearer sk-local-test');
    expect(request?.body).toMatchObject({
      model: 'llama3.2:latest',
      stream: true,
      stream_options: { include_usage: true },
      messages: [
        { role: 'system', content: 'You are mainloop.' },
        { role: 'user', content: 'Hello?' },
      ],
    });
  });

  it('parses a tool call whose arguments arrive in pieces', async () => {
    fake.enqueue(openAiScenario.toolCall({ id: 'call_abc123', name: 'list_tasks', arguments: { status: 'failed' } }));

    const events = await collect(client().stream({ ...hello, tools: [listTasks] }));

    expect(events.filter((event) => event.type === 'tool-call')).toEqual([
      { type: 'tool-call', id: 'call_abc123', name: 'list_tasks', input: { status: 'failed' } },
    ]);
    expect(events.at(-1)).toMatchObject({ type: 'finish', stopReason: 'tool_use' });
    expect((fake.completionRequests[0]?.body as { tools: unknown }).tools).toEqual([
      {
        type: 'function',
        function: expect.objectContaining({
          name: 'list_tasks',
          description: 'List the tasks, optionally by status',
          parameters: expect.objectContaining({
            type: 'object',
            properties: { status: { type: 'string', enum: ['queued', 'implementing', 'failed'] } },
          }),
        }),
      },
    ]);
  });

  it('sends tool calls and results back in the OpenAI shape', async () => {
    fake.enqueue(openAiScenario.text('Nothing has failed.'));

    await collect(
      client().stream({
        system: 'You are mainloop.',
        tools: [listTasks],
        messages: [
          { role: 'user', content: 'Anything broken?' },
          {
            role: 'assistant',
            content: '',
            toolCalls: [{ id: 'call_1', name: 'list_tasks', input: { status: 'failed' } }],
          },
          { role: 'tool', results: [{ callId: 'call_1', name: 'list_tasks', content: '[]' }] },
        ],
      }),
    );

    expect((fake.completionRequests[0]?.body as { messages: unknown[] }).messages.slice(2)).toEqual([
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'list_tasks', arguments: '{"status":"failed"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: '[]' },
    ]);
  });

  it('retries a 429 after retry-after, then streams the reply', async () => {
    fake.enqueue(openAiScenario.rateLimited(1), openAiScenario.text('OK now.'));

    const events = await collect(retrying().stream(hello));

    expect(textOf(events)).toEqual(['OK now.']);
    expect(delays).toEqual([1000]);
    expect(fake.completionRequests).toHaveLength(2);
  });

  it('raises a stream cut after text was shown, without retrying', async () => {
    fake.enqueue(openAiScenario.cut(1, 'Half ', 'an answer'));

    const { events, error } = await drain(retrying().stream(hello));

    expect(textOf(events)).toEqual(['Half ']);
    expect(error).toMatchObject({ kind: 'network', afterOutput: true });
    expect(fake.completionRequests).toHaveLength(1);
  });

  it('does not pass off a reply that ended early but cleanly as complete', async () => {
    fake.enqueue({ kind: 'completion', chunks: ['Half ', 'of it'], endAfterChunks: 1 });

    const { events, error } = await drain(retrying().stream(hello));

    expect(textOf(events)).toEqual(['Half ']);
    expect(error).toMatchObject({ kind: 'network', afterOutput: true });
  });

  it('does not retry a refused key, and says which variable to check', async () => {
    const { error } = await drain(retrying({ apiKey: 'wrong' }).stream(hello));

    expect(error).toMatchObject({ kind: 'auth', status: 401, retryable: false });
    expect((error as Error).message).toMatch(/Incorrect API key provided.*check OPENAI_API_KEY/);
    expect(fake.completionRequests).toHaveLength(1);
  });

  it('uses the first model the server lists when none is configured, asking only once', async () => {
    fake.enqueue(openAiScenario.text('one'), openAiScenario.text('two'));
    const unconfigured = client({ model: null });
    expect(unconfigured.defaultModel).toBeUndefined();

    await collect(unconfigured.stream(hello));
    await collect(unconfigured.stream(hello));

    expect(fake.requests.filter((request) => request.path === '/v1/models')).toHaveLength(1);
    expect(fake.completionRequests.map((request) => (request.body as { model: string }).model)).toEqual([
      'qwen3:8b',
      'qwen3:8b',
    ]);
    expect(unconfigured.defaultModel).toBe('qwen3:8b');
  });
});
