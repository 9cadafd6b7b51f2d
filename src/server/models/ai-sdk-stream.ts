import type { FinishReason, jsonSchema, LanguageModel, ModelMessage as AiMessage, TextStreamPart, ToolSet } from 'ai';
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

/**
 * The AI SDK, loaded at the first model request (or provider): it is a large module that
 * start-up does not need. Until it is loaded, no error can have come from it.
 */
let aiSdk: typeof import('ai') | undefined;
export async function loadAiSdk(): Promise<typeof import('ai')> {
  return (aiSdk ??= await import('ai'));
}

/**
 * One model request through the Vercel AI SDK (`streamText`, one step, tools without `execute`
 * so tool calls come back to us), mapped to mainloop's events and errors. Shared by the
 * Anthropic and the OpenAI-compatible adapters.
 */
export async function* streamThroughAiSdk(options: {
  provider: ModelProviderName;
  model: LanguageModel & { modelId: string };
  request: ModelRequest;
  /** prices known models; the OpenAI-compatible adapter has none */
  priced: boolean;
}): AsyncGenerator<ModelStreamEvent> {
  const { provider, request } = options;
  const { streamText, jsonSchema } = await loadAiSdk();
  const result = streamText({
    model: options.model,
    system: request.system,
    messages: toAiMessages(request.messages),
    tools: toAiTools(request.tools ?? [], jsonSchema),
    maxOutputTokens: request.maxOutputTokens,
    abortSignal: request.abortSignal,
    // RetryingModelClient owns retries: it knows whether text was already shown.
    maxRetries: 0,
    // errors arrive as parts and are raised below; the default would also print them
    onError: () => {},
  });

  let finishReason: FinishReason | undefined;
  let rawFinishReason: string | undefined;
  let responseModel = options.model.modelId;
  const parts = result.fullStream[Symbol.asyncIterator]();
  for (;;) {
    let next: IteratorResult<TextStreamPart<ToolSet>>;
    try {
      next = await parts.next();
    } catch (error) {
      // A body that breaks off mid-stream is thrown rather than sent as an `error` part.
      if (request.abortSignal?.aborted) throw abortedError(provider, request.abortSignal);
      throw toModelError(provider, error);
    }
    if (next.done) break;
    const part = next.value;
    switch (part.type) {
      case 'text-delta':
        if (part.text) yield { type: 'text-delta', text: part.text };
        break;
      case 'tool-call':
        yield { type: 'tool-call', id: part.toolCallId, name: part.toolName, input: part.input };
        break;
      case 'error':
        throw toModelError(provider, part.error);
      case 'abort':
        throw abortedError(provider, request.abortSignal);
      case 'finish-step':
        finishReason = part.finishReason;
        rawFinishReason = part.rawFinishReason;
        responseModel = part.response.modelId || responseModel;
        break;
      case 'finish': {
        // A stream that ends without the provider's stop reason was cut short (the connection
        // closed cleanly mid-reply): never pass that off as a complete answer.
        if (!rawFinishReason || finishReason === 'error') {
          throw new ModelError({
            kind: 'network',
            provider,
            message: describeFailure(provider, 'network', 'the reply ended before the model finished it'),
          });
        }
        const usage = part.totalUsage;
        const inputTokens = usage.inputTokens ?? 0;
        const outputTokens = usage.outputTokens ?? 0;
        yield {
          type: 'finish',
          stopReason: toStopReason(finishReason),
          usage: { inputTokens, outputTokens },
          costUsd: options.priced
            ? estimateCostUsd(responseModel, {
                inputTokens,
                outputTokens,
                cacheReadTokens: usage.inputTokenDetails?.cacheReadTokens,
                cacheWriteTokens: usage.inputTokenDetails?.cacheWriteTokens,
              })
            : undefined,
          model: responseModel,
        };
        return;
      }
      default:
        // start, start-step, text-start/end, tool-input-*, reasoning-*: nothing to pass on
        break;
    }
  }
  // The SDK always ends with `finish` or `error`; anything else is a truncated stream.
  throw new ModelError({
    kind: 'network',
    provider,
    message: describeFailure(provider, 'network', 'the reply ended early'),
  });
}

export function toAiMessages(messages: readonly ModelMessage[]): AiMessage[] {
  return messages.map((message): AiMessage => {
    switch (message.role) {
      case 'user':
        return { role: 'user', content: message.content };
      case 'assistant':
        return {
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
        };
      case 'tool':
        return {
          role: 'tool',
          content: message.results.map((result) => ({
            type: 'tool-result' as const,
            toolCallId: result.callId,
            toolName: result.name,
            output: result.isError
              ? { type: 'error-text' as const, value: result.content }
              : { type: 'text' as const, value: result.content },
          })),
        };
    }
  });
}

/**
 * Tools as JSON Schema and without `execute`: the SDK neither runs nor validates them, so the
 * caller sees exactly what the model sent and answers a bad input with an error result.
 */
function toAiTools(tools: readonly ModelTool[], toJsonSchema: typeof jsonSchema): ToolSet | undefined {
  if (tools.length === 0) return undefined;
  return Object.fromEntries(
    tools.map((tool) => [
      tool.name,
      { description: tool.description, inputSchema: toJsonSchema(toolInputJsonSchema(tool)) },
    ]),
  );
}

/** The JSON Schema the model sees for a tool's input (draft-07, as the AI SDK and Claude Code send it). */
export function toolInputJsonSchema(tool: ModelTool) {
  // Converted once per schema: every model request of every turn sends the same tools.
  let schema = jsonSchemas.get(tool.inputSchema);
  if (!schema) {
    schema = z.toJSONSchema(tool.inputSchema, { target: 'draft-7', io: 'input' }) as Parameters<typeof jsonSchema>[0];
    jsonSchemas.set(tool.inputSchema, schema);
  }
  return schema;
}
const jsonSchemas = new WeakMap<ModelTool['inputSchema'], Parameters<typeof jsonSchema>[0]>();

function toStopReason(reason: FinishReason | undefined): StopReason {
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
