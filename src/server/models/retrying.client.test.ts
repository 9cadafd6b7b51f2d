import { describe, expect, it } from 'vitest';
import { drain, textOf } from '../../../test/fakes/stream.js';
import type { ModelClient, ModelRequest, ModelStreamEvent } from './model-client.js';
import { ModelError } from './model-error.js';
import { RetryingModelClient } from './retrying.client.js';

/** A client that plays one script per request: events, then optionally a failure. */
class ScriptedClient implements ModelClient {
  readonly provider = 'anthropic' as const;
  readonly defaultModel = 'claude-haiku-4-5';
  readonly signals: AbortSignal[] = [];

  constructor(private readonly scripts: Array<{ events?: ModelStreamEvent[]; error?: unknown }>) {}

  async *stream(request: ModelRequest): AsyncGenerator<ModelStreamEvent> {
    this.signals.push(request.abortSignal!);
    const script = this.scripts.shift();
    if (!script) throw new Error('no script left');
    for (const event of script.events ?? []) yield event;
    if (script.error) throw script.error;
  }
}

const request: ModelRequest = { system: '', messages: [{ role: 'user', content: 'hi' }] };
const finish: ModelStreamEvent = {
  type: 'finish',
  stopReason: 'end_turn',
  usage: { inputTokens: 1, outputTokens: 1 },
  model: 'claude-haiku-4-5',
};
const overloaded = (retryAfterMs?: number) =>
  new ModelError({ kind: 'overloaded', provider: 'anthropic', status: 529, message: 'overloaded', retryAfterMs });

describe('RetryingModelClient', () => {
  it('backs off exponentially with jitter between half and all of each step, capped', async () => {
    const randoms = [0, 0.999, 0, 0.999, 0];
    const delays: number[] = [];
    const inner = new ScriptedClient([
      ...Array.from({ length: 5 }, () => ({ error: overloaded() })),
      { events: [{ type: 'text-delta' as const, text: 'ok' }, finish] },
    ]);
    const client = new RetryingModelClient(inner, {
      maxAttempts: 6,
      baseDelayMs: 100,
      maxDelayMs: 500,
      random: () => randoms.shift()!,
      sleep: async (ms) => void delays.push(ms),
    });

    const { events, error } = await drain(client.stream(request));

    expect(error).toBeUndefined();
    expect(textOf(events)).toEqual(['ok']);
    expect(delays).toEqual([50, 200, 200, 500, 250]);
  });

  it('raises at once when retry-after asks for longer than it is willing to wait', async () => {
    const delays: number[] = [];
    const client = new RetryingModelClient(new ScriptedClient([{ error: overloaded(5 * 60_000) }]), {
      sleep: async (ms) => void delays.push(ms),
    });

    const { error } = await drain(client.stream(request));

    expect(error).toMatchObject({ kind: 'overloaded', retryAfterMs: 300_000, attempts: 1 });
    expect(delays).toEqual([]);
  });

  it('does not retry an unexpected exception, and reports it as unknown', async () => {
    const client = new RetryingModelClient(new ScriptedClient([{ error: new TypeError('x is not a function') }]), {
      sleep: async () => {},
    });

    const { error } = await drain(client.stream(request));

    expect(error).toMatchObject({
      kind: 'unknown',
      retryable: false,
      message: 'The model request failed: x is not a function',
    });
  });

  it('stops waiting when the caller aborts during the backoff', async () => {
    const controller = new AbortController();
    const client = new RetryingModelClient(new ScriptedClient([{ error: overloaded() }, { events: [finish] }]), {
      baseDelayMs: 60_000,
    });

    const run = drain(client.stream({ ...request, abortSignal: controller.signal }));
    setTimeout(() => controller.abort(), 20);
    const { error } = await run;

    expect(error).toMatchObject({ kind: 'aborted' });
  });

  it('cancels the request underneath when the caller stops reading', async () => {
    const inner = new ScriptedClient([
      { events: [{ type: 'text-delta', text: 'a' }, { type: 'text-delta', text: 'b' }, finish] },
    ]);
    const client = new RetryingModelClient(inner);

    for await (const event of client.stream(request)) {
      if (event.type === 'text-delta') break;
    }

    expect(inner.signals[0]?.aborted).toBe(true);
  });
});
