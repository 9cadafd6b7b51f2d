import type { ServerResponse } from 'node:http';
import { FakeHttpServer, randomId, sleep, writeSse, type RecordedRequest } from '../http.js';

/**
 * A local OpenAI Responses API for the real Codex CLI (`codex exec`), reached through a model
 * provider of mainloop's own (`-c model_providers.mainloop={base_url=…, wire_api="responses"}`).
 * `POST /v1/responses` streams what the real API streams and Codex reads: `response.created`,
 * per output item `response.output_item.added`, `response.output_text.delta`s for a message,
 * `response.output_item.done`, then `response.completed` with usage. Errors are
 * `{error:{message, type, code}}` with their status. Codex runs the tools itself: a scripted
 * `exec_command` call really runs in the workspace, and `apply_patch` (Codex intercepts it in a
 * shell command) really edits files. Anything not scripted fails the test at `close()`.
 */

export interface ResponsesTurn {
  kind: 'turn';
  output: OutputItem[];
  usage?: { inputTokens: number; outputTokens: number };
  /** wait this long before `response.completed` (a slow model) */
  delayMs?: number;
}

export interface ResponsesError {
  kind: 'error';
  status: number;
  type: string;
  message: string;
  code?: string;
}

export type ResponsesScenario = ResponsesTurn | ResponsesError;

type OutputItem =
  { type: 'message'; text: string } | { type: 'function_call'; name: string; arguments: Record<string, unknown> };

export const responses = {
  /** the model says `text` and ends its turn */
  message: (text: string, usage?: ResponsesTurn['usage']): ResponsesTurn => ({
    kind: 'turn',
    output: [{ type: 'message', text }],
    usage,
  }),
  /** the model runs `command` in a shell (Codex's `exec_command` tool) */
  command: (command: string, options: { delayMs?: number } = {}): ResponsesTurn => ({
    kind: 'turn',
    output: [{ type: 'function_call', name: 'exec_command', arguments: { cmd: command } }],
    delayMs: options.delayMs,
  }),
  /** the model edits files with an apply_patch body (`*** Begin Patch` … `*** End Patch`) */
  patch: (patch: string): ResponsesTurn => ({
    kind: 'turn',
    output: [
      { type: 'function_call', name: 'exec_command', arguments: { cmd: `apply_patch <<'PATCH'\n${patch}\nPATCH` } },
    ],
  }),
  error: (status: number, message: string, type = 'invalid_request_error', code?: string): ResponsesError => ({
    kind: 'error',
    status,
    type,
    message,
    code,
  }),
};

export class FakeResponsesApi {
  private readonly queue: ResponsesScenario[] = [];
  private http!: FakeHttpServer;

  private constructor(readonly apiKey: string | undefined) {}

  /** `apiKey`: when set, requests must carry `Authorization: Bearer <apiKey>` */
  static async start(options: { apiKey?: string } = {}): Promise<FakeResponsesApi> {
    const fake = new FakeResponsesApi(options.apiKey);
    fake.http = await FakeHttpServer.start((request, response) => fake.handle(request, response));
    return fake;
  }

  /** the provider's `base_url`: the server with its `/v1` prefix */
  get baseUrl(): string {
    return `${this.http.url}/v1`;
  }

  get requests(): readonly RecordedRequest[] {
    return this.http.requests.filter((request) => request.path === '/v1/responses');
  }

  get pending(): number {
    return this.queue.length;
  }

  enqueue(...scenarios: ResponsesScenario[]): this {
    this.queue.push(...scenarios);
    return this;
  }

  async close(): Promise<void> {
    await this.http.close();
  }

  private async handle(request: RecordedRequest, response: ServerResponse): Promise<void> {
    if (request.method !== 'POST' || request.path !== '/v1/responses') {
      return this.http.unexpected(response, `unexpected route ${request.method} ${request.url}`);
    }
    if (this.apiKey && request.headers.authorization !== `Bearer ${this.apiKey}`) {
      this.http.problems.push(`a request without the API key (authorization: ${request.headers.authorization})`);
      return sendError(response, 401, 'invalid_request_error', 'Incorrect API key provided', 'invalid_api_key');
    }
    const body = request.body as { model?: unknown; input?: unknown; stream?: unknown };
    if (typeof body !== 'object' || typeof body.model !== 'string' || !Array.isArray(body.input) || !body.stream) {
      return this.http.unexpected(response, 'a malformed Responses request (model, input and stream are required)');
    }
    const scenario = this.queue.shift();
    if (!scenario) {
      return this.http.unexpected(response, `request #${this.requests.length} arrived with no scenario queued`);
    }
    if (scenario.kind === 'error') {
      return sendError(response, scenario.status, scenario.type, scenario.message, scenario.code ?? null);
    }
    await stream(response, body.model, scenario);
  }
}

async function stream(response: ServerResponse, model: string, turn: ResponsesTurn): Promise<void> {
  const id = randomId('resp_');
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  let sequence = 0;
  const send = (event: Record<string, unknown> & { type: string }) =>
    writeSse(response, { ...event, sequence_number: sequence++ }, event.type);
  send({ type: 'response.created', response: { id, object: 'response', status: 'in_progress', model } });
  for (const [index, item] of turn.output.entries()) {
    const done =
      item.type === 'message'
        ? {
            id: randomId('msg_'),
            type: 'message',
            role: 'assistant',
            status: 'completed',
            content: [{ type: 'output_text', text: item.text, annotations: [] }],
          }
        : {
            id: randomId('fc_'),
            type: 'function_call',
            status: 'completed',
            name: item.name,
            call_id: randomId('call_'),
            arguments: JSON.stringify(item.arguments),
          };
    send({ type: 'response.output_item.added', output_index: index, item: { ...done, status: 'in_progress' } });
    if (item.type === 'message') {
      send({ type: 'response.output_text.delta', output_index: index, item_id: done.id, delta: item.text });
    }
    send({ type: 'response.output_item.done', output_index: index, item: done });
  }
  if (turn.delayMs) await sleep(turn.delayMs);
  if (response.destroyed) return;
  const usage = turn.usage ?? { inputTokens: 100, outputTokens: 10 };
  send({
    type: 'response.completed',
    response: {
      id,
      object: 'response',
      status: 'completed',
      model,
      usage: {
        input_tokens: usage.inputTokens,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens: usage.outputTokens,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: usage.inputTokens + usage.outputTokens,
      },
    },
  });
  response.end();
}

function sendError(response: ServerResponse, status: number, type: string, message: string, code: string | null) {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify({ error: { message, type, param: null, code } }));
}

/** The user's texts in a recorded Responses request's `input`, in order. */
export function userTexts(request: RecordedRequest): string[] {
  const input = (request.body as { input: Array<{ type?: string; role?: string; content?: unknown }> }).input;
  return input
    .filter((item) => item.type === 'message' && item.role === 'user' && Array.isArray(item.content))
    .flatMap((item) => (item.content as Array<{ type: string; text?: string }>).map((part) => part.text ?? ''));
}

/** Whether a recorded request's history holds an assistant message containing `text`. */
export function historyHas(request: RecordedRequest, text: string): boolean {
  return JSON.stringify((request.body as { input: unknown }).input).includes(text);
}
