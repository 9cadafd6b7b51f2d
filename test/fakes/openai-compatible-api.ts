import type { ServerResponse } from 'node:http';
import { FakeHttpServer, randomId, sleep, splitInto, writeSse, type RecordedRequest } from './http.js';

/**
 * A local OpenAI-compatible server (what Ollama, vLLM and LM Studio serve under `/v1`):
 * `POST /v1/chat/completions` streams `chat.completion.chunk`s — `delta.content` pieces,
 * `delta.tool_calls` (id and name first, then the arguments in pieces), a chunk with
 * `finish_reason`, a last chunk with `usage` when `stream_options.include_usage` is asked for —
 * then `data: [DONE]`; JSON when `stream` is false. `GET /v1/models` lists `models`.
 * Errors are `{error:{message, type, code}}`. Anything not scripted fails the test at `close()`.
 */

export type OpenAiScenario = OpenAiCompletionScenario | OpenAiErrorScenario;

export interface OpenAiCompletionScenario {
  kind: 'completion';
  /** the text, one `delta.content` per chunk */
  chunks?: string[];
  toolCalls?: Array<{ id?: string; name: string; arguments: Record<string, unknown>; argumentChunks?: number }>;
  finishReason?: 'stop' | 'tool_calls' | 'length';
  usage?: { promptTokens: number; completionTokens: number };
  delayMs?: number;
  /** destroy the socket after this many content chunks */
  cutAfterChunks?: number;
  /** end the response properly after this many content chunks, without finish_reason or [DONE] */
  endAfterChunks?: number;
}

export interface OpenAiErrorScenario {
  kind: 'error';
  status: number;
  type: string;
  message: string;
  retryAfterSeconds?: number;
}

export const openAiScenario = {
  text: (...chunks: string[]): OpenAiCompletionScenario => ({ kind: 'completion', chunks }),
  toolCall: (call: {
    name: string;
    arguments: Record<string, unknown>;
    id?: string;
    text?: string[];
  }): OpenAiScenario => ({
    kind: 'completion',
    chunks: call.text,
    toolCalls: [{ id: call.id, name: call.name, arguments: call.arguments, argumentChunks: 3 }],
  }),
  rateLimited: (retryAfterSeconds?: number): OpenAiErrorScenario => ({
    kind: 'error',
    status: 429,
    type: 'rate_limit_exceeded',
    message: 'Rate limit reached for requests',
    retryAfterSeconds,
  }),
  serverError: (): OpenAiErrorScenario => ({
    kind: 'error',
    status: 500,
    type: 'server_error',
    message: 'The server had an error',
  }),
  cut: (afterChunks: number, ...chunks: string[]): OpenAiCompletionScenario => ({
    kind: 'completion',
    chunks,
    cutAfterChunks: afterChunks,
  }),
};

export class FakeOpenAiCompatibleApi {
  private readonly queue: OpenAiScenario[] = [];

  private http!: FakeHttpServer;

  private constructor(
    readonly apiKey: string | undefined,
    readonly models: string[],
  ) {}

  /** `apiKey`: when set, requests must carry `Authorization: Bearer <apiKey>` (Ollama needs none) */
  static async start(options: { apiKey?: string; models?: string[] } = {}): Promise<FakeOpenAiCompatibleApi> {
    const fake = new FakeOpenAiCompatibleApi(options.apiKey, options.models ?? ['llama3.2:latest']);
    fake.http = await FakeHttpServer.start((request, response) => fake.handle(request, response));
    return fake;
  }

  /** what OPENAI_BASE_URL is set to: the server with its `/v1` prefix */
  get baseUrl(): string {
    return `${this.http.url}/v1`;
  }

  get requests(): readonly RecordedRequest[] {
    return this.http.requests;
  }

  get completionRequests(): readonly RecordedRequest[] {
    return this.http.requests.filter((request) => request.path === '/v1/chat/completions');
  }

  get pending(): number {
    return this.queue.length;
  }

  enqueue(...scenarios: OpenAiScenario[]): this {
    this.queue.push(...scenarios);
    return this;
  }

  async close(): Promise<void> {
    await this.http.close();
  }

  private async handle(request: RecordedRequest, response: ServerResponse): Promise<void> {
    if (this.apiKey && request.headers.authorization !== `Bearer ${this.apiKey}`) {
      return sendError(response, 401, 'invalid_request_error', 'Incorrect API key provided', 'invalid_api_key');
    }
    if (request.method === 'GET' && request.path === '/v1/models') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          object: 'list',
          data: this.models.map((id) => ({ id, object: 'model', created: 1_730_000_000, owned_by: 'library' })),
        }),
      );
      return;
    }
    if (request.method !== 'POST' || request.path !== '/v1/chat/completions') {
      return this.http.unexpected(response, `unexpected route ${request.method} ${request.url}`);
    }
    const body = request.body as ChatRequest;
    if (
      typeof body !== 'object' ||
      typeof body.model !== 'string' ||
      !Array.isArray(body.messages) ||
      body.messages.length === 0
    ) {
      this.http.problems.push('a malformed chat completion request');
      return sendError(response, 400, 'invalid_request_error', 'model and messages are required');
    }
    const toolProblem = toolMessagesProblem(body.messages as ChatMessage[]);
    if (toolProblem) {
      this.http.problems.push(`a malformed conversation: ${toolProblem}`);
      return sendError(response, 400, 'invalid_request_error', toolProblem);
    }
    const scenario = this.queue.shift();
    if (!scenario) {
      return this.http.unexpected(
        response,
        `request #${this.completionRequests.length} arrived with no scenario queued`,
      );
    }
    if (scenario.kind === 'error') {
      const headers: Record<string, string> =
        scenario.retryAfterSeconds !== undefined ? { 'retry-after': String(scenario.retryAfterSeconds) } : {};
      return sendError(response, scenario.status, scenario.type, scenario.message, null, headers);
    }
    if (body.stream) await streamCompletion(response, body, scenario);
    else sendCompletion(response, body, scenario);
  }
}

interface ChatMessage {
  role: string;
  content?: unknown;
  tool_calls?: Array<{ id: string; type: string; function: { name: string; arguments: string } }>;
  tool_call_id?: string;
}

/**
 * What OpenAI refuses in a conversation's tool calls: an assistant message with `tool_calls`
 * must be followed by a `tool` message for each `tool_call_id`, and a `tool` message must answer
 * one of the calls before it.
 */
function toolMessagesProblem(messages: ChatMessage[]): string | undefined {
  for (const [index, message] of messages.entries()) {
    if (message.role === 'assistant' && message.tool_calls?.length) {
      const following: string[] = [];
      for (const next of messages.slice(index + 1)) {
        if (next.role !== 'tool') break;
        following.push(next.tool_call_id ?? '');
      }
      const missing = message.tool_calls.find((call) => !following.includes(call.id));
      if (missing) {
        return `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${missing.id}`;
      }
    }
    if (message.role === 'tool') {
      const asked = messages
        .slice(0, index)
        .findLast((earlier) => earlier.role !== 'tool')
        ?.tool_calls?.some((call) => call.id === message.tool_call_id);
      if (!asked) {
        return `messages.[${index}].role: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.`;
      }
    }
  }
  return undefined;
}

interface ChatRequest {
  model: string;
  messages: unknown[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
}

type Completion = OpenAiCompletionScenario;

function sendError(
  response: ServerResponse,
  status: number,
  type: string,
  message: string,
  code: string | null = null,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify({ error: { message, type, param: null, code } }));
}

function resolve(body: ChatRequest, scenario: Completion) {
  const text = (scenario.chunks ?? []).join('');
  const toolCalls = (scenario.toolCalls ?? []).map((call) => ({
    id: call.id ?? randomId('call_', 24),
    name: call.name,
    arguments: JSON.stringify(call.arguments),
    argumentChunks: call.argumentChunks ?? 3,
  }));
  const promptTokens = scenario.usage?.promptTokens ?? Math.max(1, Math.ceil(JSON.stringify(body.messages).length / 4));
  const completionTokens =
    scenario.usage?.completionTokens ??
    Math.max(1, Math.ceil((text.length + toolCalls.reduce((sum, call) => sum + call.arguments.length, 0)) / 4));
  return {
    id: randomId('chatcmpl-', 29),
    created: Math.floor(Date.now() / 1000),
    model: body.model,
    text,
    toolCalls,
    finishReason: scenario.finishReason ?? (toolCalls.length > 0 ? 'tool_calls' : 'stop'),
    usage: {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
    },
  };
}

function sendCompletion(response: ServerResponse, body: ChatRequest, scenario: Completion): void {
  const completion = resolve(body, scenario);
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(
    JSON.stringify({
      id: completion.id,
      object: 'chat.completion',
      created: completion.created,
      model: completion.model,
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: completion.text || null,
            ...(completion.toolCalls.length > 0
              ? {
                  tool_calls: completion.toolCalls.map((call) => ({
                    id: call.id,
                    type: 'function',
                    function: { name: call.name, arguments: call.arguments },
                  })),
                }
              : {}),
          },
          finish_reason: completion.finishReason,
        },
      ],
      usage: completion.usage,
    }),
  );
}

async function streamCompletion(response: ServerResponse, body: ChatRequest, scenario: Completion): Promise<void> {
  const completion = resolve(body, scenario);
  response.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  const chunk = (delta: Record<string, unknown>, finishReason: string | null = null) =>
    writeSse(response, {
      id: completion.id,
      object: 'chat.completion.chunk',
      created: completion.created,
      model: completion.model,
      system_fingerprint: 'fp_fake',
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    });

  chunk({ role: 'assistant', content: '' });
  let sent = 0;
  for (const content of scenario.chunks ?? []) {
    if (scenario.cutAfterChunks !== undefined && sent >= scenario.cutAfterChunks) {
      await sleep(20);
      response.socket?.destroy();
      return;
    }
    if (scenario.endAfterChunks !== undefined && sent >= scenario.endAfterChunks) {
      response.end();
      return;
    }
    if (scenario.delayMs) await sleep(scenario.delayMs);
    chunk({ content });
    sent += 1;
  }
  for (const [index, call] of completion.toolCalls.entries()) {
    chunk({ tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }] });
    for (const piece of splitInto(call.arguments, call.argumentChunks)) {
      chunk({ tool_calls: [{ index, function: { arguments: piece } }] });
    }
  }
  chunk({}, completion.finishReason);
  if (body.stream_options?.include_usage) {
    writeSse(response, {
      id: completion.id,
      object: 'chat.completion.chunk',
      created: completion.created,
      model: completion.model,
      system_fingerprint: 'fp_fake',
      choices: [],
      usage: completion.usage,
    });
  }
  writeSse(response, '[DONE]');
  response.end();
}
