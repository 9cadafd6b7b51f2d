import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { anthropicScenario, FakeAnthropicApi } from '../../../test/fakes/anthropic-api.js';
import { collect, drain, textOf } from '../../../test/fakes/stream.js';
import { AnthropicModelClient } from './anthropic.client.js';
import type { ModelRequest, ModelTool } from './model-client.js';
import { ModelError } from './model-error.js';
import { RetryingModelClient } from './retrying.client.js';

const spawnTask: ModelTool = {
  name: 'spawn_task',
  description: 'Propose a task for a background worker',
  inputSchema: z.object({ title: z.string(), prompt: z.string(), skipPlan: z.boolean().optional() }),
};

const hello: ModelRequest = { system: 'You are mainloop.', messages: [{ role: 'user', content: 'Hello?' }] };

let fake: FakeAnthropicApi;
let delays: number[];

beforeEach(async () => {
  fake = await FakeAnthropicApi.start();
  delays = [];
});
afterEach(async () => {
  await fake.close(); // fails the test if the fake saw anything unscripted
});

function client(options: { apiKey?: string } = {}) {
  return new AnthropicModelClient({
    apiKey: options.apiKey ?? fake.apiKey,
    baseUrl: fake.url,
    model: 'claude-haiku-4-5',
  });
}

/** Retries as in production, but records the waits instead of sleeping them. */
function retrying(options: { apiKey?: string; idleTimeoutMs?: number } = {}) {
  return new RetryingModelClient(client(options), {
    sleep: async (ms) => void delays.push(ms),
    random: () => 0.5,
    idleTimeoutMs: options.idleTimeoutMs,
  });
}

describe('AnthropicModelClient against the fake Messages API', () => {
  it('streams a plain reply as text deltas, in order, then finishes with usage and cost', async () => {
    fake.enqueue({
      ...anthropicScenario.text('Hel', 'lo, ', 'how can I help?'),
      usage: { inputTokens: 1200, outputTokens: 8 },
    });

    const events = await collect(client().stream({ ...hello, maxOutputTokens: 512 }));

    expect(textOf(events)).toEqual(['Hel', 'lo, ', 'how can I help?']);
    expect(events.at(-1)).toEqual({
      type: 'finish',
      stopReason: 'end_turn',
      usage: { inputTokens: 1200, outputTokens: 8 },
      costUsd: 0.00124, // 1200 × $1/M + 8 × $5/M for claude-haiku-4-5
      model: 'claude-haiku-4-5',
    });
    const [request] = fake.messageRequests;
    expect(request?.headers['x-api-key']).toBe(fake.apiKey);
    expect(request?.headers['anthropic-version']).toBeTruthy();
    expect(request?.body).toMatchObject({
      model: 'claude-haiku-4-5',
      max_tokens: 512,
      stream: true,
      system: [{ type: 'text', text: 'You are mainloop.' }],
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello?' }] }],
    });
  });

  it('hands over each delta as it arrives, before the reply is complete', async () => {
    fake.enqueue(anthropicScenario.slow(40, 'one ', 'two ', 'three'));

    const seenBeforeTheEnd: boolean[] = [];
    for await (const event of client().stream(hello)) {
      if (event.type === 'text-delta') seenBeforeTheEnd.push(fake.messageRequests[0]?.status === undefined);
    }

    expect(seenBeforeTheEnd.slice(0, 2)).toEqual([true, true]);
  });

  it('returns a tool call with its JSON input parsed, without running anything', async () => {
    fake.enqueue(
      anthropicScenario.toolCall({
        id: 'toolu_01A09q90qw90lq917835lq9',
        name: 'spawn_task',
        input: { title: 'Fix the login page', prompt: 'The button does nothing on Safari.', skipPlan: true },
        text: ['I will ', 'propose that.'],
        jsonChunks: 5,
      }),
    );

    const events = await collect(client().stream({ ...hello, tools: [spawnTask] }));

    expect(textOf(events)).toEqual(['I will ', 'propose that.']);
    expect(events.filter((event) => event.type === 'tool-call')).toEqual([
      {
        type: 'tool-call',
        id: 'toolu_01A09q90qw90lq917835lq9',
        name: 'spawn_task',
        input: { title: 'Fix the login page', prompt: 'The button does nothing on Safari.', skipPlan: true },
      },
    ]);
    expect(events.at(-1)).toMatchObject({ type: 'finish', stopReason: 'tool_use' });
    expect((fake.messageRequests[0]?.body as { tools: unknown }).tools).toEqual([
      expect.objectContaining({
        name: 'spawn_task',
        description: 'Propose a task for a background worker',
        input_schema: expect.objectContaining({
          type: 'object',
          properties: { title: { type: 'string' }, prompt: { type: 'string' }, skipPlan: { type: 'boolean' } },
          required: ['title', 'prompt'],
        }),
      }),
    ]);
  });

  it('sends earlier tool calls and their results back as tool_use and tool_result blocks', async () => {
    fake.enqueue(anthropicScenario.text('Proposed: see the card above.'));

    await collect(
      client().stream({
        system: 'You are mainloop.',
        tools: [spawnTask],
        messages: [
          { role: 'user', content: 'Fix the login page' },
          {
            role: 'assistant',
            content: 'Proposing it.',
            toolCalls: [{ id: 'toolu_1', name: 'spawn_task', input: { title: 'Fix login', prompt: 'Safari' } }],
          },
          { role: 'tool', results: [{ callId: 'toolu_1', name: 'spawn_task', content: '{"proposalId":"p1"}' }] },
        ],
      }),
    );

    expect((fake.messageRequests[0]?.body as { messages: unknown }).messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Fix the login page' }] },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Proposing it.' },
          { type: 'tool_use', id: 'toolu_1', name: 'spawn_task', input: { title: 'Fix login', prompt: 'Safari' } },
        ],
      },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: '{"proposalId":"p1"}' }] },
    ]);
  });

  it('retries a 429, waiting as long as retry-after says, then streams the reply', async () => {
    fake.enqueue(anthropicScenario.rateLimited(2), anthropicScenario.text('Back again.'));

    const events = await collect(retrying().stream(hello));

    expect(textOf(events)).toEqual(['Back again.']);
    expect(fake.messageRequests).toHaveLength(2);
    expect(delays).toEqual([2000]);
  });

  it('retries 529 overloaded and a 500 with exponential backoff', async () => {
    fake.enqueue(anthropicScenario.overloaded(), anthropicScenario.serverError(), anthropicScenario.text('Done.'));

    const events = await collect(retrying().stream(hello));

    expect(textOf(events)).toEqual(['Done.']);
    // base 1 s, doubled; with random() = 0.5 the equal jitter lands at 3/4 of each step
    expect(delays).toEqual([750, 1500]);
  });

  it('gives up after the last attempt with a message a person can read', async () => {
    fake.enqueue(...Array.from({ length: 4 }, () => anthropicScenario.overloaded()));

    const { error } = await drain(retrying().stream(hello));

    expect(error).toBeInstanceOf(ModelError);
    expect(error).toMatchObject({ kind: 'overloaded', status: 529, retryable: true, attempts: 4 });
    expect((error as ModelError).message).toBe(
      'The Anthropic API is overloaded right now (HTTP 529): Overloaded. Try again in a moment. (gave up after 4 attempts)',
    );
  });

  it('raises a stream cut after text was shown instead of retrying it silently', async () => {
    fake.enqueue(anthropicScenario.cut(2, 'The answer ', 'is ', 'forty-two.'));

    const { events, error } = await drain(retrying().stream(hello));

    expect(textOf(events)).toEqual(['The answer ', 'is ']);
    expect(events.some((event) => event.type === 'finish')).toBe(false);
    expect(error).toMatchObject({ kind: 'network', retryable: true, afterOutput: true });
    expect(fake.messageRequests).toHaveLength(1);
  });

  it('does not pass off a reply that ended early but cleanly as complete', async () => {
    fake.enqueue({ kind: 'message', content: [{ type: 'text', chunks: ['Half ', 'of it'] }], endAfterDeltas: 1 });

    const { events, error } = await drain(retrying().stream(hello));

    expect(textOf(events)).toEqual(['Half ']);
    expect(error).toMatchObject({ kind: 'network', afterOutput: true });
  });

  it('retries a stream cut before anything was shown', async () => {
    fake.enqueue(anthropicScenario.cut(0, 'lost'), anthropicScenario.text('Here it is.'));

    const events = await collect(retrying().stream(hello));

    expect(textOf(events)).toEqual(['Here it is.']);
    expect(fake.messageRequests).toHaveLength(2);
  });

  it('maps an error event inside the stream (overloaded mid-reply)', async () => {
    fake.enqueue({
      kind: 'message',
      content: [{ type: 'text', chunks: ['Part ', 'two'] }],
      errorAfterDeltas: { deltas: 1, type: 'overloaded_error' },
    });

    const { events, error } = await drain(retrying().stream(hello));

    expect(textOf(events)).toEqual(['Part ']);
    expect(error).toMatchObject({ kind: 'overloaded', afterOutput: true });
  });

  it('does not retry a refused key, and says which variable to check', async () => {
    const { error } = await drain(retrying({ apiKey: 'sk-ant-wrong' }).stream(hello));

    expect(error).toMatchObject({ kind: 'auth', status: 401, retryable: false });
    expect((error as Error).message).toMatch(/refused mainloop's credentials \(HTTP 401\).*check ANTHROPIC_API_KEY/);
    expect(fake.messageRequests).toHaveLength(1);
  });

  it('does not retry a bad request', async () => {
    fake.enqueue(anthropicScenario.badRequest('prompt is too long: 210000 tokens > 200000 maximum'));

    const { error } = await drain(retrying().stream(hello));

    expect(error).toMatchObject({ kind: 'bad_request', status: 400, retryable: false });
    expect((error as Error).message).toContain('prompt is too long');
    expect(delays).toEqual([]);
  });

  it('fails a reply that stalls as a timeout and retries it', async () => {
    fake.enqueue(anthropicScenario.slow(1000, 'never ', 'arrives'), anthropicScenario.text('Fresh reply.'));

    const events = await collect(retrying({ idleTimeoutMs: 200 }).stream(hello));

    expect(textOf(events)).toEqual(['Fresh reply.']);
    expect(fake.messageRequests).toHaveLength(2);
  });

  it('stops when the caller aborts, as `aborted`', async () => {
    fake.enqueue(anthropicScenario.slow(100, 'a ', 'b ', 'c ', 'd'));
    const controller = new AbortController();

    const events: string[] = [];
    const run = (async () => {
      for await (const event of retrying().stream({ ...hello, abortSignal: controller.signal })) {
        if (event.type === 'text-delta') {
          events.push(event.text);
          controller.abort();
        }
      }
    })();

    await expect(run).rejects.toMatchObject({ kind: 'aborted', retryable: false });
    expect(events).toEqual(['a ']);
    expect(fake.messageRequests).toHaveLength(1);
  });
});
