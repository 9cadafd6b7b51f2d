import type { AnthropicProvider } from '@ai-sdk/anthropic';
import { z } from 'zod';
import type {
  ModelMessage,
  ModelProviderName,
  ModelRequest,
  ModelStreamEvent,
  ModelTool,
  StopReason,
} from './model-client.js';
import {
  describeFailure,
  isNetworkFailure,
  kindForStatus,
  ModelError,
  parseRetryAfter,
  rootMessage,
  type ModelErrorKind,
} from './model-error.js';
import { estimateCostUsd } from './pricing.js';

/** A provider's language model as the AI SDK's providers make it (the specification's version 3). */
export type LanguageModel = ReturnType<AnthropicProvider['languageModel']>;
type CallOptions = Parameters<LanguageModel['doStream']>[0];
type Prompt = CallOptions['prompt'];
type StreamPart =
  Awaited<ReturnType<LanguageModel['doStream']>>['stream'] extends ReadableStream<infer Part> ? Part : never;
type FinishReason = Extract<StreamPart, { type: 'finish' }>['finishReason']['unified'];
type JsonSchema = Extract<NonNullable<CallOptions['tools']>[number], { type: 'function' }>['inputSchema'];

/**
 * The AI SDK, loaded at the first model request (or provider): it is a large module that
 * start-up does not need. Until it is loaded, no error can have come from it.
 */
let aiSdk: typeof import('ai') | undefined;
export async function loadAiSdk(): Promise<typeof import('ai')> {
  return (aiSdk ??= await import('ai'));
}

/**
 * One model request through an AI SDK provider, mapped to mainloop's events and errors. Shared by
 * the Anthropic and the OpenAI-compatible adapters. It calls the provider's model itself
 * (`doStream`: one request, its stream of parts) rather than `streamText`, which would check
 * the whole prompt against its schemas, convert it again and run its tool loop, telemetry and
 * stream transforms on every request: work the turn pays for before the first token, for a
 * conversation we build ourselves. Tool calls come back to us, as with tools without `execute`.
 */
export async function* streamThroughAiSdk(options: {
  provider: ModelProviderName;
  model: LanguageModel;
  request: ModelRequest;
  /** prices known models; the OpenAI-compatible adapter has none */
  priced: boolean;
}): AsyncGenerator<ModelStreamEvent> {
  const { provider, request } = options;
  const tools = toProviderTools(request.tools ?? []);
  let parts: ReadableStreamDefaultReader<StreamPart>;
  try {
    const result = await options.model.doStream({
      prompt: toPrompt(request.system, request.messages),
      ...(tools ? { tools, toolChoice: { type: 'auto' } } : {}),
      maxOutputTokens: request.maxOutputTokens,
      abortSignal: request.abortSignal,
    });
    parts = result.stream.getReader();
  } catch (error) {
    if (request.abortSignal?.aborted) throw abortedError(provider, request.abortSignal);
    throw toModelError(provider, error);
  }

  let responseModel = options.model.modelId;
  let finished = false;
  try {
    for (;;) {
      let next: ReadableStreamReadResult<StreamPart>;
      try {
        next = await parts.read();
      } catch (error) {
        // A body that breaks off mid-stream is thrown rather than sent as an `error` part.
        if (request.abortSignal?.aborted) throw abortedError(provider, request.abortSignal);
        throw toModelError(provider, error);
      }
      if (next.done) break;
      const part = next.value;
      switch (part.type) {
        case 'text-delta':
          if (part.delta) yield { type: 'text-delta', text: part.delta };
          break;
        case 'tool-call':
          yield { type: 'tool-call', id: part.toolCallId, name: part.toolName, input: parseToolInput(part.input) };
          break;
        case 'response-metadata':
          responseModel = part.modelId || responseModel;
          break;
        case 'error':
          throw toModelError(provider, part.error);
        case 'finish': {
          // A stream that ends without the provider's stop reason was cut short (the connection
          // closed cleanly mid-reply): never pass that off as a complete answer.
          if (!part.finishReason.raw || part.finishReason.unified === 'error') {
            throw new ModelError({
              kind: 'network',
              provider,
              message: describeFailure(provider, 'network', 'the reply ended before the model finished it'),
            });
          }
          const { inputTokens, outputTokens } = part.usage;
          finished = true;
          yield {
            type: 'finish',
            stopReason: toStopReason(part.finishReason.unified),
            usage: { inputTokens: inputTokens.total ?? 0, outputTokens: outputTokens.total ?? 0 },
            costUsd: options.priced
              ? estimateCostUsd(responseModel, {
                  inputTokens: inputTokens.total ?? 0,
                  outputTokens: outputTokens.total ?? 0,
                  cacheReadTokens: inputTokens.cacheRead,
                  cacheWriteTokens: inputTokens.cacheWrite,
                })
              : undefined,
            model: responseModel,
          };
          return;
        }
        default:
          // stream-start, text-start/end, tool-input-*, reasoning-*, raw: nothing to pass on
          break;
      }
    }
  } finally {
    // Left early (an error, or the caller stopped reading): the response body is not read on.
    if (!finished) parts.cancel().catch(() => {});
  }
  // A provider always ends with `finish`; anything else is a truncated stream.
  throw new ModelError({
    kind: 'network',
    provider,
    message: describeFailure(provider, 'network', 'the reply ended early'),
  });
}

/** The conversation as the providers' models take it: the system prompt first, text as parts. */
export function toPrompt(system: string, messages: readonly ModelMessage[]): Prompt {
  const prompt: Prompt = [{ role: 'system', content: system }];
  for (const message of messages) {
    switch (message.role) {
      case 'user':
        prompt.push({ role: 'user', content: [{ type: 'text', text: message.content }] });
        break;
      case 'assistant':
        prompt.push({
          role: 'assistant',
          content: [
            ...(message.content ? [{ type: 'text' as const, text: message.content }] : []),
            ...(message.toolCalls ?? []).map((call) => ({
              type: 'tool-call' as const,
              toolCallId: call.id,
              toolName: call.name,
              input: call.input,
            })),
          ],
        });
        break;
      case 'tool':
        prompt.push({
          role: 'tool',
          content: message.results.map((result) => ({
            type: 'tool-result' as const,
            toolCallId: result.callId,
            toolName: result.name,
            output: result.isError
              ? { type: 'error-text' as const, value: result.content }
              : { type: 'text' as const, value: result.content },
          })),
        });
        break;
    }
  }
  return prompt;
}

/**
 * A tool call's input as the model sent it: its JSON parsed, `{}` when it sent none, the text
 * itself when it is not JSON (the tool then answers with an error the model can read).
 */
function parseToolInput(input: string): unknown {
  if (input.trim() === '') return {};
  try {
    return JSON.parse(input) as unknown;
  } catch {
    return input;
  }
}

/** Tools as JSON Schema: the model neither runs nor validates them; the caller sees exactly what the model sent. */
function toProviderTools(tools: readonly ModelTool[]): CallOptions['tools'] {
  if (tools.length === 0) return undefined;
  return tools.map((tool) => ({
    type: 'function' as const,
    name: tool.name,
    description: tool.description,
    inputSchema: toolInputJsonSchema(tool),
  }));
}

/** The JSON Schema the model sees for a tool's input (draft-07, as the AI SDK and Claude Code send it). */
export function toolInputJsonSchema(tool: ModelTool) {
  // Converted once per schema: every model request of every turn sends the same tools.
  let schema = jsonSchemas.get(tool.inputSchema);
  if (!schema) {
    schema = z.toJSONSchema(tool.inputSchema, { target: 'draft-7', io: 'input' }) as JsonSchema;
    jsonSchemas.set(tool.inputSchema, schema);
  }
  return schema;
}
const jsonSchemas = new WeakMap<ModelTool['inputSchema'], JsonSchema>();

function toStopReason(reason: FinishReason): StopReason {
  switch (reason) {
    case 'stop':
      return 'end_turn';
    case 'tool-calls':
      return 'tool_use';
    case 'length':
      return 'max_tokens';
    case 'content-filter':
      return 'content_filter';
    default:
      return 'other';
  }
}

/** Anthropic's error types, as sent in error bodies and in a stream's `error` event. */
const ANTHROPIC_ERROR_KINDS: Record<string, ModelErrorKind> = {
  rate_limit_error: 'rate_limited',
  overloaded_error: 'overloaded',
  api_error: 'server',
  timeout_error: 'timeout',
  authentication_error: 'auth',
  permission_error: 'auth',
  billing_error: 'auth',
  invalid_request_error: 'bad_request',
  not_found_error: 'bad_request',
  request_too_large: 'bad_request',
};

export function toModelError(provider: ModelProviderName, error: unknown): ModelError {
  if (error instanceof ModelError) return error;
  if (aiSdk?.APICallError.isInstance(error)) {
    // A 200 whose body broke off has the status of the answer but the failure of the connection.
    const answered = error.statusCode !== undefined && error.statusCode >= 300;
    const status = answered ? error.statusCode : undefined;
    const kind = status ? kindForStatus(status) : isNetworkFailure(error) ? 'network' : 'unknown';
    const detail = kind === 'network' ? rootMessage(error) : (providerMessage(error.data) ?? error.message);
    return new ModelError({
      kind,
      provider,
      status,
      retryAfterMs: parseRetryAfter(error.responseHeaders),
      message: describeFailure(provider, kind, detail, status),
      cause: error,
    });
  }
  // A reply that broke off or came garbled: ended without a finish reason, bad JSON in a chunk.
  if (aiSdk?.InvalidResponseDataError.isInstance(error)) {
    const kind = /ended without/i.test(error.message) ? 'network' : 'server';
    return new ModelError({ kind, provider, message: describeFailure(provider, kind, error.message), cause: error });
  }
  // An `error` event inside an Anthropic stream arrives as its payload: {type, message}.
  if (typeof error === 'object' && error !== null && 'type' in error && typeof error.type === 'string') {
    const kind = ANTHROPIC_ERROR_KINDS[error.type];
    if (kind) {
      const detail = 'message' in error && typeof error.message === 'string' ? error.message : error.type;
      return new ModelError({ kind, provider, message: describeFailure(provider, kind, detail), cause: error });
    }
  }
  if (isNetworkFailure(error)) {
    return new ModelError({
      kind: 'network',
      provider,
      message: describeFailure(provider, 'network', rootMessage(error)),
      cause: error,
    });
  }
  return new ModelError({
    kind: 'unknown',
    provider,
    message: describeFailure(provider, 'unknown', rootMessage(error)),
    cause: error,
  });
}

export function abortedError(provider: ModelProviderName | 'none', signal: AbortSignal | undefined): ModelError {
  return new ModelError({
    kind: 'aborted',
    provider,
    message: 'The model request was cancelled.',
    cause: signal?.reason,
  });
}

/** The provider's own words from an error body: Anthropic's `error.message`, OpenAI's `error.message`. */
function providerMessage(data: unknown): string | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const inner = (data as { error?: unknown }).error;
  if (typeof inner === 'object' && inner !== null && typeof (inner as { message?: unknown }).message === 'string') {
    return (inner as { message: string }).message;
  }
  return undefined;
}
