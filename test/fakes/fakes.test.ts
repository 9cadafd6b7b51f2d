import { describe, expect, it } from 'vitest';
import { SseFrameParser } from '../../src/contract/events.js';
import { anthropicScenario, FakeAnthropicApi } from './anthropic-api.js';
import { FakeOpenAiCompatibleApi, openAiScenario } from './openai-compatible-api.js';

/** The fakes themselves: what they put on the wire must be what the real APIs send. */

async function sse(response: Response) {
  const parser = new SseFrameParser();
  return parser.feed(await response.text()).map((frame) => ({ event: frame.event, data: frame.data }));
}

const anthropicHeaders = (apiKey: string) => ({
  'content-type': 'application/json',
  'x-api-key': apiKey,
  'anthropic-version': '2023-06-01',
});

describe('FakeAnthropicApi', () => {
  it('streams the Messages API event sequence, each event named as its type', async () => {
    const fake = await FakeAnthropicApi.start();
    fake.enqueue(
      anthropicScenario.toolCall({ id: 'toolu_01X', name: 'get_task', input: { taskId: 't1' }, text: ['Hi', '!'] }),
    );

    const response = await fetch(`${fake.url}/v1/messages`, {
      method: 'POST',
      headers: anthropicHeaders(fake.apiKey),
      body: JSON.stringify({
        model: 'claude-haiku-4-5',
        max_tokens: 100,
        stream: true,
        messages: [{ role: 'user', content: 'x' }],
      }),
    });
    const frames = await sse(response);
    await fake.close();

    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(response.headers.get('request-id')).toMatch(/^req_/);
    for (const frame of frames) expect(JSON.parse(frame.data!).type).toBe(frame.event);
    expect(frames.map((frame) => frame.event)).toEqual([
      'message_start',
      'content_block_start',
      'ping',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    const data = frames.map((frame) => JSON.parse(frame.data!));
    expect(data[0].message).toMatchObject({
      id: expect.stringMatching(/^msg_01/),
      type: 'message',
      role: 'assistant',
      model: 'claude-haiku-4-5',
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: expect.any(Number), output_tokens: 1 },
    });
    expect(data[1]).toEqual({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
    expect(data[3]).toEqual({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hi' } });
    expect(data[6]).toEqual({
      type: 'content_block_start',
      index: 1,
      content_block: { type: 'tool_use', id: 'toolu_01X', name: 'get_task', input: {} },
    });
    expect(data[7]).toEqual({
      type: 'content_block_delta',
      index: 1,
      delta: { type: 'input_json_delta', partial_json: '' },
    });
    expect(
      data
        .slice(7, 11)
        .map((event) => event.delta.partial_json)
        .join(''),
    ).toBe('{"taskId":"t1"}');
    expect(data[12]).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'tool_use', stop_sequence: null },
      usage: { output_tokens: expect.any(Number) },
    });
  });

  it('answers JSON when stream is false, and HEAD / as the Claude Code CLI probes it', async () => {
    const fake = await FakeAnthropicApi.start();
    fake.enqueue(anthropicScenario.text('Hello', ' world'));

    const head = await fetch(fake.url, { method: 'HEAD' });
    const response = await fetch(`${fake.url}/v1/messages?beta=true`, {
      method: 'POST',
      headers: anthropicHeaders(fake.apiKey),
      body: JSON.stringify({ model: 'claude-haiku-4-5', max_tokens: 100, messages: [{ role: 'user', content: 'x' }] }),
    });
    await fake.close();

    expect(head.status).toBe(200);
    expect(await response.json()).toMatchObject({
      type: 'message',
      role: 'assistant',
      content: [{ type: 'text', text: 'Hello world' }],
      stop_reason: 'end_turn',
      usage: { input_tokens: expect.any(Number), output_tokens: expect.any(Number) },
    });
  });

  it('answers errors in the API’s shape, with retry-after on a 429', async () => {
    const fake = await FakeAnthropicApi.start();
    fake.enqueue(anthropicScenario.rateLimited(3));

    const response = await fetch(`${fake.url}/v1/messages`, {
      method: 'POST',
      headers: anthropicHeaders(fake.apiKey),
      body: JSON.stringify({ model: 'm', max_tokens: 1, messages: [{ role: 'user', content: 'x' }] }),
    });
    await fake.close();

    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('3');
    expect(await response.json()).toEqual({
      type: 'error',
      error: { type: 'rate_limit_error', message: expect.any(String) },
      request_id: expect.stringMatching(/^req_/),
    });
  });

  it('fails the test loudly on a request nobody scripted, a missing header or an unknown route', async () => {
    const fake = await FakeAnthropicApi.start();
    const body = JSON.stringify({ model: 'm', max_tokens: 1, messages: [{ role: 'user', content: 'x' }] });

    const unscripted = await fetch(`${fake.url}/v1/messages`, {
      method: 'POST',
      headers: anthropicHeaders(fake.apiKey),
      body,
    });
    const { 'anthropic-version': _, ...withoutVersion } = anthropicHeaders(fake.apiKey);
    const unversioned = await fetch(`${fake.url}/v1/messages`, { method: 'POST', headers: withoutVersion, body });
    const unknown = await fetch(`${fake.url}/v1/complete`, { method: 'POST' });

    expect([unscripted.status, unversioned.status, unknown.status]).toEqual([500, 400, 500]);
    await expect(fake.close()).rejects.toThrow(
      /no scenario queued[\s\S]*without the anthropic-version header[\s\S]*unexpected route POST \/v1\/complete/,
    );
  });
});

describe('FakeOpenAiCompatibleApi', () => {
  it('streams chat.completion.chunk deltas, tool calls, the finish reason, usage last, then [DONE]', async () => {
    const fake = await FakeOpenAiCompatibleApi.start();
    fake.enqueue({
      ...openAiScenario.toolCall({ id: 'call_1', name: 'list_tasks', arguments: { status: 'failed' }, text: ['Hm'] }),
    });

    const response = await fetch(`${fake.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'llama3.2',
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: 'user', content: 'x' }],
      }),
    });
    const frames = await sse(response);
    const models = await (await fetch(`${fake.baseUrl}/models`)).json();
    await fake.close();

    expect(frames.at(-1)).toEqual({ event: undefined, data: '[DONE]' });
    const chunks = frames.slice(0, -1).map((frame) => JSON.parse(frame.data!));
    for (const chunk of chunks) expect(chunk).toMatchObject({ object: 'chat.completion.chunk', model: 'llama3.2' });
    expect(chunks.map((chunk) => chunk.choices[0]?.delta)).toEqual([
      { role: 'assistant', content: '' },
      { content: 'Hm' },
      { tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'list_tasks', arguments: '' } }] },
      { tool_calls: [{ index: 0, function: { arguments: expect.any(String) } }] },
      { tool_calls: [{ index: 0, function: { arguments: expect.any(String) } }] },
      { tool_calls: [{ index: 0, function: { arguments: expect.any(String) } }] },
      {},
      undefined,
    ]);
    expect(chunks.at(-2).choices[0].finish_reason).toBe('tool_calls');
    expect(chunks.at(-1)).toMatchObject({
      choices: [],
      usage: { prompt_tokens: expect.any(Number), completion_tokens: expect.any(Number) },
    });
    expect(models).toMatchObject({ object: 'list', data: [{ id: 'llama3.2:latest', object: 'model' }] });
  });
});
