import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { anthropicScenario, FakeAnthropicApi } from '../../../test/fakes/anthropic-api.js';
import { collect, drain, textOf } from '../../../test/fakes/stream.js';
import { ClaudeSubscriptionModelClient, renderTranscript } from './claude-subscription.client.js';
import type { ModelRequest, ModelTool } from './model-client.js';
import type { ModelError } from './model-error.js';
import { RetryingModelClient } from './retrying.client.js';

/**
 * The real Claude Code CLI, bundled with the Agent SDK, pointed at the fake Anthropic API. The
 * fake key stands in for the subscription's sign-in; HOME is a scratch directory, so nothing of
 * this machine's Claude Code set-up is read or written.
 */

const spawnTask: ModelTool = {
  name: 'spawn_task',
  description: 'Propose a task for a background worker',
  inputSchema: z.object({ title: z.string(), prompt: z.string() }),
};

const hello: ModelRequest = {
  system: 'You are mainloop, the main thread.',
  messages: [{ role: 'user', content: 'Hello?' }],
};

let home: string;
let fake: FakeAnthropicApi;

beforeAll(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'mainloop-claude-home-'));
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});
beforeEach(async () => {
  fake = await FakeAnthropicApi.start();
});
afterEach(async () => {
  await fake.close();
});

function client(options: { apiKey?: string } = {}) {
  return new ClaudeSubscriptionModelClient({
    model: 'claude-haiku-4-5',
    cwd: home,
    env: {
      PATH: process.env.PATH,
      HOME: home,
      ANTHROPIC_BASE_URL: fake.url,
      ANTHROPIC_API_KEY: options.apiKey ?? fake.apiKey,
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      DISABLE_TELEMETRY: '1',
    },
  });
}

const messagesBody = (index = 0) =>
  fake.messageRequests[index]?.body as {
    system: Array<{ text: string }>;
    tools?: Array<{ name: string; input_schema: unknown }>;
    messages: Array<{ content: Array<{ type: string; text?: string }> }>;
    max_tokens: number;
    thinking?: unknown;
  };

describe('ClaudeSubscriptionModelClient through the real Claude Code CLI', () => {
  it('streams a reply as text deltas and finishes with usage and Claude Code’s cost estimate', async () => {
    fake.enqueue({ ...anthropicScenario.text('Hel', 'lo ', 'there.'), usage: { inputTokens: 900, outputTokens: 4 } });

    const events = await collect(client().stream({ ...hello, maxOutputTokens: 2048 }));

    expect(textOf(events)).toEqual(['Hel', 'lo ', 'there.']);
    const finish = events.at(-1);
    expect(finish).toMatchObject({
      type: 'finish',
      stopReason: 'end_turn',
      usage: { inputTokens: 900, outputTokens: 4 },
      model: 'claude-haiku-4-5',
    });
    expect(finish?.type === 'finish' && finish.costUsd).toBeGreaterThan(0);

    // one model request, with our system prompt and limits, no thinking, and no tools at all
    expect(fake.messageRequests).toHaveLength(1);
    const body = messagesBody();
    expect(body.system.map((block) => block.text)).toContain('You are mainloop, the main thread.');
    expect(body.max_tokens).toBe(2048);
    expect(body.thinking).toEqual({ type: 'disabled' });
    expect(body.tools ?? []).toEqual([]);
    expect(body.messages.at(-1)?.content.at(-1)).toMatchObject({ type: 'text', text: 'Hello?' });
  });

  it('offers our tools as MCP tools only, and returns the model’s call to us in one request', async () => {
    fake.enqueue(
      anthropicScenario.toolCall({
        name: 'mcp__mainloop__spawn_task',
        input: { title: 'Fix login', prompt: 'The button does nothing on Safari.' },
        text: ['Proposing ', 'a task.'],
      }),
    );

    const events = await collect(client().stream({ ...hello, tools: [spawnTask] }));

    expect(textOf(events)).toEqual(['Proposing ', 'a task.']);
    const calls = events.filter((event) => event.type === 'tool-call');
    expect(calls).toEqual([
      {
        type: 'tool-call',
        id: expect.stringMatching(/^toolu_/),
        name: 'spawn_task',
        input: { title: 'Fix login', prompt: 'The button does nothing on Safari.' },
      },
    ]);
    expect(events.at(-1)).toMatchObject({ type: 'finish', stopReason: 'tool_use' });
    // Claude Code knew the tool (no built-in ones beside it), and stopped instead of running it
    // and asking the model again: the fake would have failed on a second request.
    expect(messagesBody().tools?.map((tool) => tool.name)).toEqual(['mcp__mainloop__spawn_task']);
    expect(messagesBody().tools?.[0]?.input_schema).toMatchObject({ required: ['title', 'prompt'] });
    expect(fake.messageRequests).toHaveLength(1);
  });

  it('sends a longer conversation as a transcript in one prompt', async () => {
    fake.enqueue(anthropicScenario.text('The proposal is waiting for your yes.'));
    const request: ModelRequest = {
      system: 'You are mainloop.',
      tools: [spawnTask],
      messages: [
        { role: 'user', content: 'Fix the login page' },
        {
          role: 'assistant',
          content: '',
          toolCalls: [{ id: 'toolu_1', name: 'spawn_task', input: { title: 'Fix login' } }],
        },
        { role: 'tool', results: [{ callId: 'toolu_1', name: 'spawn_task', content: '{"proposalId":"p1"}' }] },
      ],
    };

    const events = await collect(client().stream(request));

    expect(textOf(events).join('')).toBe('The proposal is waiting for your yes.');
    const prompt = messagesBody().messages.at(-1)?.content.at(-1)?.text;
    expect(prompt).toBe(renderTranscript(request.messages));
    expect(prompt).toContain('<tool_result id="toolu_1" name="spawn_task">\n{"proposalId":"p1"}\n</tool_result>');
  });

  it('reports a 429 as rate_limited, and a retry then succeeds', async () => {
    fake.enqueue(anthropicScenario.rateLimited(1), anthropicScenario.text('Second try.'));
    const retries: unknown[] = [];
    const retrying = new RetryingModelClient(client(), {
      sleep: async () => {},
      onRetry: ({ error }) => retries.push(error),
    });

    const events = await collect(retrying.stream(hello));

    expect(textOf(events)).toEqual(['Second try.']);
    expect(retries).toEqual([expect.objectContaining({ kind: 'rate_limited', status: 429, retryable: true })]);
    expect(fake.messageRequests).toHaveLength(2); // Claude Code did not retry on its own
  });

  it('reports refused credentials as auth, not retried, with how to sign in again', async () => {
    const retrying = new RetryingModelClient(client({ apiKey: 'sk-ant-wrong' }), { sleep: async () => {} });

    const { error } = await drain(retrying.stream(hello));

    expect(error).toMatchObject({ kind: 'auth', retryable: false, provider: 'claude-subscription' });
    expect((error as Error).message).toMatch(/refused mainloop's credentials.*\/login/);
    expect(fake.messageRequests).toHaveLength(1);
  });

  it('raises a stream cut after text was shown, without a second request', async () => {
    // The CLI passes partial text on as it flushes it: on a loaded machine the cut can come before
    // it flushed any, and then nothing was shown and retrying is right. So the text that is shown
    // may come from a retry, but no request follows the one that showed it, and no text comes twice.
    const cut = () => anthropicScenario.cut(2, 'The answer ', 'is ', 'forty-two.');
    fake.enqueue(cut(), cut(), cut(), cut());
    const retries: ModelError[] = [];
    const retrying = new RetryingModelClient(client(), {
      sleep: async () => {},
      onRetry: ({ error }) => retries.push(error),
    });

    const { events, error } = await drain(retrying.stream(hello));

    // One request per attempt (Claude Code does not retry on its own), each retried one showed nothing.
    expect(fake.messageRequests).toHaveLength(retries.length + 1);
    expect(retries.every((retried) => !retried.afterOutput)).toBe(true);
    if (textOf(events).length > 0) {
      expect(textOf(events)).toEqual(['The answer ', 'is ']);
      expect(error).toMatchObject({ kind: 'network', afterOutput: true });
    } else {
      expect(error).toMatchObject({ kind: 'network' });
      expect((error as { afterOutput?: boolean }).afterOutput).toBeFalsy();
      expect(fake.messageRequests).toHaveLength(4);
    }
  });
});
