import type { ServerResponse } from 'node:http';
import { FakeHttpServer, randomId, sleep, splitInto, writeSse, type RecordedRequest } from './http.js';

/**
 * A local Anthropic Messages API that streams exactly as the real one does: `message_start`,
 * per content block `content_block_start` / `content_block_delta` (`text_delta`,
 * `input_json_delta` in several chunks) / `content_block_stop`, `ping`, `message_delta` with
 * `stop_reason` and usage, `message_stop`; JSON when `stream` is false; errors as
 * `{type:"error", error:{type, message}, request_id}` with the real statuses and headers.
 *
 * Each `POST /v1/messages` (also `?beta=true`, which the Claude Code CLI uses) takes the next
 * scripted scenario from the queue. A request with nothing queued, a missing header, a malformed
 * body or an unknown route is answered with an error and fails the test at `close()`.
 *
 * Reference: https://docs.anthropic.com/en/docs/build-with-claude/streaming and
 * https://docs.anthropic.com/en/api/errors.
 */

export type AnthropicBlock =
  | { type: 'text'; chunks: string[] }
  | { type: 'tool_use'; id?: string; name: string; input: Record<string, unknown>; jsonChunks?: number };

export type AnthropicScenario = AnthropicMessageScenario | AnthropicErrorScenario;

export interface AnthropicMessageScenario {
  kind: 'message';
  content: AnthropicBlock[];
  /** default: `tool_use` when a tool_use block is present, else `end_turn` */
  stopReason?: 'end_turn' | 'tool_use' | 'max_tokens' | 'stop_sequence' | 'refusal';
  usage?: { inputTokens?: number; outputTokens?: number; cacheReadInputTokens?: number };
  /** pause before every content_block_delta (a slow model) */
  delayMs?: number;
  /** destroy the socket after this many content_block_delta events (a connection cut mid-stream) */
  cutAfterDeltas?: number;
  /** end the response properly after this many deltas, without the rest (a proxy that gave up cleanly) */
  endAfterDeltas?: number;
  /** send an SSE `error` event after this many deltas, as the API does when it is overloaded mid-stream */
  errorAfterDeltas?: { deltas: number; type: 'overloaded_error' | 'api_error'; message?: string };
}

/**
 * A scenario decided when its request arrives, from what the request says: a reply that names a
 * path the client chose (Claude Code's plan file), or one that checks the conversation it was sent.
 */
export type AnthropicResponder = (request: AnthropicMessagesRequest) => AnthropicScenario;

/** What a Messages API request carries, as far as responders need it. */
export interface AnthropicMessagesRequest {
  model: string;
  max_tokens: number;
  system?: string | Array<{ type: string; text?: string }>;
  messages: Array<{ role: 'user' | 'assistant'; content: string | Array<{ type: string; [key: string]: unknown }> }>;
  tools?: Array<{ name: string; [key: string]: unknown }>;
  stream?: boolean;
}

export interface AnthropicErrorScenario {
  kind: 'error';
  status: number;
  type: string;
  message: string;
  retryAfterSeconds?: number;
}

/** Builders for the usual scenarios. */
export const anthropicScenario = {
  /** a plain reply streamed as one text block, one `text_delta` per chunk */
  text: (...chunks: string[]): AnthropicMessageScenario => ({ kind: 'message', content: [{ type: 'text', chunks }] }),
  /** a reply that calls a tool (optionally after some text); the input JSON arrives in `jsonChunks` pieces */
  toolCall: (call: {
    name: string;
    input: Record<string, unknown>;
    id?: string;
    text?: string[];
    jsonChunks?: number;
  }): AnthropicMessageScenario => ({
    kind: 'message',
    content: [
      ...(call.text ? [{ type: 'text' as const, chunks: call.text }] : []),
      { type: 'tool_use', id: call.id, name: call.name, input: call.input, jsonChunks: call.jsonChunks ?? 3 },
    ],
  }),
  rateLimited: (retryAfterSeconds?: number): AnthropicErrorScenario => ({
    kind: 'error',
    status: 429,
    type: 'rate_limit_error',
    message: 'Number of request tokens has exceeded your per-minute rate limit',
    retryAfterSeconds,
  }),
  overloaded: (): AnthropicErrorScenario => ({
    kind: 'error',
    status: 529,
    type: 'overloaded_error',
    message: 'Overloaded',
  }),
  serverError: (): AnthropicErrorScenario => ({
    kind: 'error',
    status: 500,
    type: 'api_error',
    message: 'Internal server error',
  }),
  badRequest: (message = 'messages: at least one message is required'): AnthropicErrorScenario => ({
    kind: 'error',
    status: 400,
    type: 'invalid_request_error',
    message,
  }),
  /** streams `chunks` but the connection is destroyed after `afterDeltas` of them */
  cut: (afterDeltas: number, ...chunks: string[]): AnthropicMessageScenario => ({
    kind: 'message',
    content: [{ type: 'text', chunks }],
    cutAfterDeltas: afterDeltas,
  }),
  /** a reply with `delayMs` between deltas */
  slow: (delayMs: number, ...chunks: string[]): AnthropicMessageScenario => ({
    kind: 'message',
    content: [{ type: 'text', chunks }],
    delayMs,
  }),
};

export class FakeAnthropicApi {
  private readonly queue: Array<AnthropicScenario | AnthropicResponder> = [];

  private http!: FakeHttpServer;

  private constructor(readonly apiKey: string) {}

  /** `apiKey`: the only key accepted (as `x-api-key` or `Authorization: Bearer`); others get a real 401 */
  static async start(options: { apiKey?: string } = {}): Promise<FakeAnthropicApi> {
    const fake = new FakeAnthropicApi(options.apiKey ?? 'sk-ant-fake-key-for-tests');
    fake.http = await FakeHttpServer.start((request, response) => fake.handle(request, response));
    return fake;
  }

  /** the server's root, as ANTHROPIC_BASE_URL is written for Anthropic's SDKs and the Claude Code CLI */
  get url(): string {
    return this.http.url;
  }

  /** every request received, in order (HEAD probes included) */
  get requests(): readonly RecordedRequest[] {
    return this.http.requests;
  }

  /** the Messages API calls only */
  get messageRequests(): readonly RecordedRequest[] {
    return this.http.requests.filter((request) => request.method === 'POST' && request.path === '/v1/messages');
  }

  /** scenarios still waiting for a request */
  get pending(): number {
    return this.queue.length;
  }

  /** Scripts the next requests, in order; a responder is asked when its request arrives. */
  enqueue(...scenarios: Array<AnthropicScenario | AnthropicResponder>): this {
    this.queue.push(...scenarios);
    return this;
  }

  assertNoUnexpected(): void {
    this.http.assertNoUnexpected();
  }

  async close(): Promise<void> {
    await this.http.close();
  }

  private async handle(request: RecordedRequest, response: ServerResponse): Promise<void> {
    // The Claude Code CLI probes reachability with HEAD / before its first request.
    if (request.method === 'HEAD' && request.path === '/') {
      response.writeHead(200).end();
      return;
    }
    if (request.method !== 'POST' || request.path !== '/v1/messages') {
      return this.http.unexpected(response, `unexpected route ${request.method} ${request.url}`);
    }
    if (!this.authenticated(request)) {
      return sendError(response, 401, 'authentication_error', 'invalid x-api-key');
    }
    if (!request.headers['anthropic-version']) {
      this.http.problems.push('a request without the anthropic-version header');
      return sendError(response, 400, 'invalid_request_error', 'anthropic-version: header is required');
    }
    const problem = validateBody(request.body);
    if (problem) {
      this.http.problems.push(`a malformed request body: ${problem}`);
      return sendError(response, 400, 'invalid_request_error', problem);
    }
    const next = this.queue.shift();
    if (!next) {
      return this.http.unexpected(response, `request #${this.messageRequests.length} arrived with no scenario queued`);
    }
    const body = request.body as AnthropicMessagesRequest;
    const scenario = typeof next === 'function' ? next(body) : next;
    if (scenario.kind === 'error') {
      const headers: Record<string, string> = {};
      if (scenario.retryAfterSeconds !== undefined) headers['retry-after'] = String(scenario.retryAfterSeconds);
      if (scenario.status === 429 || scenario.status >= 500) headers['x-should-retry'] = 'true';
      return sendError(response, scenario.status, scenario.type, scenario.message, headers);
    }
    if (body.stream) await streamMessage(response, body, scenario);
    else sendMessage(response, body, scenario);
  }

  private authenticated(request: RecordedRequest): boolean {
    const apiKey = request.headers['x-api-key'];
    const authorization = request.headers.authorization;
    return apiKey === this.apiKey || authorization === `Bearer ${this.apiKey}`;
  }
}

function validateBody(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return 'the body is not a JSON object';
  const value = body as Partial<AnthropicMessagesRequest>;
  if (typeof value.model !== 'string' || !value.model) return 'model: field required';
  if (typeof value.max_tokens !== 'number' || !Number.isInteger(value.max_tokens)) return 'max_tokens: field required';
  if (!Array.isArray(value.messages) || value.messages.length === 0)
    return 'messages: at least one message is required';
  return toolPairingProblem(value.messages);
}

/**
 * What the real API refuses in a conversation's tool use: every `tool_use` block must be answered
 * by a `tool_result` at the start of the next (user) message, and every `tool_result` must answer
 * a `tool_use` of the message before it.
 */
function toolPairingProblem(messages: AnthropicMessagesRequest['messages']): string | undefined {
  const blocks = (index: number) => {
    const content = messages[index]?.content;
    return Array.isArray(content) ? content : [];
  };
  for (const [index, message] of messages.entries()) {
    const uses = message.role === 'assistant' ? blocks(index).filter((block) => block.type === 'tool_use') : [];
    const next = blocks(index + 1);
    const answered = new Set(
      messages[index + 1]?.role === 'user'
        ? next.filter((block) => block.type === 'tool_result').map((block) => block.tool_use_id)
        : [],
    );
    const unanswered = uses.find((use) => !answered.has(use.id));
    if (unanswered) {
      return `messages.${index}: tool_use ids were found without tool_result blocks immediately after: ${String(unanswered.id)}`;
    }
    if (message.role !== 'user') continue;
    const asked = new Set(blocks(index - 1).map((block) => (block.type === 'tool_use' ? block.id : undefined)));
    const stray = blocks(index).find((block) => block.type === 'tool_result' && !asked.has(block.tool_use_id));
    if (stray) {
      return `messages.${index}.content: unexpected tool_use_id found in tool_result blocks: ${String(stray.tool_use_id)}`;
    }
  }
  return undefined;
}

function sendError(
  response: ServerResponse,
  status: number,
  type: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  const requestId = randomId('req_011C');
  response.writeHead(status, { 'content-type': 'application/json', 'request-id': requestId, ...headers });
  response.end(JSON.stringify({ type: 'error', error: { type, message }, request_id: requestId }));
}

type Scenario = AnthropicMessageScenario;

interface ResolvedBlock {
  block:
    { type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> };
  deltas: Array<{ type: 'text_delta'; text: string } | { type: 'input_json_delta'; partial_json: string }>;
}

function resolve(body: AnthropicMessagesRequest, scenario: Scenario) {
  const blocks: ResolvedBlock[] = scenario.content.map((block) => {
    if (block.type === 'text') {
      return {
        block: { type: 'text', text: block.chunks.join('') },
        deltas: block.chunks.map((text) => ({ type: 'text_delta' as const, text })),
      };
    }
    const json = JSON.stringify(block.input);
    return {
      block: { type: 'tool_use', id: block.id ?? randomId('toolu_01'), name: block.name, input: block.input },
      // The real API opens a tool_use block with an empty partial_json, then sends the JSON in pieces.
      deltas: ['', ...splitInto(json, block.jsonChunks ?? 3)].map((partial_json) => ({
        type: 'input_json_delta' as const,
        partial_json,
      })),
    };
  });
  const outputText = blocks
    .map(({ block }) => (block.type === 'text' ? block.text : JSON.stringify(block.input)))
    .join('');
  const hasToolUse = blocks.some(({ block }) => block.type === 'tool_use');
  return {
    id: randomId('msg_01'),
    model: body.model,
    blocks,
    stopReason: scenario.stopReason ?? (hasToolUse ? 'tool_use' : 'end_turn'),
    inputTokens: scenario.usage?.inputTokens ?? Math.max(1, Math.ceil(JSON.stringify(body.messages).length / 4)),
    outputTokens: scenario.usage?.outputTokens ?? Math.max(1, Math.ceil(outputText.length / 4)),
    cacheReadInputTokens: scenario.usage?.cacheReadInputTokens ?? 0,
  };
}

function sendMessage(response: ServerResponse, body: AnthropicMessagesRequest, scenario: Scenario): void {
  const message = resolve(body, scenario);
  response.writeHead(200, { 'content-type': 'application/json', 'request-id': randomId('req_011C') });
  response.end(
    JSON.stringify({
      id: message.id,
      type: 'message',
      role: 'assistant',
      model: message.model,
      content: message.blocks.map(({ block }) => block),
      stop_reason: message.stopReason,
      stop_sequence: null,
      usage: {
        input_tokens: message.inputTokens,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: message.cacheReadInputTokens,
        output_tokens: message.outputTokens,
        service_tier: 'standard',
      },
    }),
  );
}

async function streamMessage(
  response: ServerResponse,
  body: AnthropicMessagesRequest,
  scenario: Scenario,
): Promise<void> {
  const message = resolve(body, scenario);
  response.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'request-id': randomId('req_011C'),
  });
  const send = (type: string, data: Record<string, unknown>) => writeSse(response, { type, ...data }, type);

  send('message_start', {
    message: {
      id: message.id,
      type: 'message',
      role: 'assistant',
      model: message.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: {
        input_tokens: message.inputTokens,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: message.cacheReadInputTokens,
        output_tokens: 1,
        service_tier: 'standard',
      },
    },
  });
  let deltasSent = 0;
  for (const [index, { block, deltas }] of message.blocks.entries()) {
    const start = block.type === 'text' ? { type: 'text', text: '' } : { ...block, input: {} };
    send('content_block_start', { index, content_block: start });
    if (index === 0) send('ping', {});
    for (const delta of deltas) {
      if (scenario.cutAfterDeltas !== undefined && deltasSent >= scenario.cutAfterDeltas) {
        // Give the client the bytes already written, then drop the connection without a proper end.
        await sleep(20);
        response.socket?.destroy();
        return;
      }
      if (scenario.endAfterDeltas !== undefined && deltasSent >= scenario.endAfterDeltas) {
        response.end();
        return;
      }
      if (scenario.errorAfterDeltas && deltasSent >= scenario.errorAfterDeltas.deltas) {
        const { type, message: text } = scenario.errorAfterDeltas;
        send('error', {
          error: { type, message: text ?? (type === 'overloaded_error' ? 'Overloaded' : 'Internal server error') },
        });
        response.end();
        return;
      }
      if (scenario.delayMs) await sleep(scenario.delayMs);
      send('content_block_delta', { index, delta });
      deltasSent += 1;
    }
    send('content_block_stop', { index });
  }
  send('message_delta', {
    delta: { stop_reason: message.stopReason, stop_sequence: null },
    usage: { output_tokens: message.outputTokens },
  });
  send('message_stop', {});
  response.end();
}
