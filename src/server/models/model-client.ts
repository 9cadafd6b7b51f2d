import type { z } from 'zod';

/** The model providers mainloop can talk to. */
export const MODEL_PROVIDERS = ['anthropic', 'openai-compatible', 'claude-subscription'] as const;
export type ModelProviderName = (typeof MODEL_PROVIDERS)[number];

/** A tool call the model asked for. `input` is the model's JSON as sent, not yet validated. */
export interface ToolCall {
  id: string;
  name: string;
  input: unknown;
}

/** What running a tool gave back, sent to the model on the next request. */
export interface ToolResult {
  /** the `id` of the ToolCall this answers */
  callId: string;
  name: string;
  /** plain text (serialize structured results as JSON) */
  content: string;
  /** the tool failed: the model reads `content` as the reason */
  isError?: boolean;
}

/**
 * The conversation as mainloop keeps it, provider-neutral: the person's messages, the
 * assistant's text and tool calls, and tool results. The system prompt travels separately.
 */
export type ModelMessage =
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string; toolCalls?: readonly ToolCall[] }
  | { role: 'tool'; results: readonly ToolResult[] };

/** A tool the model may call. Its input is an object; the schema is shown to the model. */
export interface ModelTool {
  name: string;
  description: string;
  inputSchema: z.ZodObject;
}

export interface ModelRequest {
  /** default: the client's model (MAINLOOP_MODEL or the provider's default) */
  model?: string;
  system: string;
  messages: readonly ModelMessage[];
  tools?: readonly ModelTool[];
  abortSignal?: AbortSignal;
  maxOutputTokens?: number;
}

export type StopReason = 'end_turn' | 'tool_use' | 'max_tokens' | 'content_filter' | 'other';

export interface TokenUsage {
  /** every input token, cached ones included */
  inputTokens: number;
  outputTokens: number;
}

export type ModelStreamEvent =
  | { type: 'text-delta'; text: string }
  | { type: 'tool-call'; id: string; name: string; input: unknown }
  | {
      type: 'finish';
      stopReason: StopReason;
      usage: TokenUsage;
      /** estimated from list prices; undefined when the model's price is unknown */
      costUsd?: number;
      /** the model that answered, as the provider names it */
      model: string;
    };

/**
 * One call of `stream()` is one model request: it yields the reply's text as it arrives, the
 * tool calls the model made, then exactly one `finish`. It never runs a tool: the caller (the
 * turn engine) runs them and calls again with the results, so each request can be a durable
 * step. Failures are thrown as `ModelError`.
 */
export interface ModelClient {
  readonly provider: ModelProviderName | 'none';
  /** the model used when a request names none; undefined when the provider picks it at the first request */
  readonly defaultModel: string | undefined;
  stream(request: ModelRequest): AsyncIterable<ModelStreamEvent>;
}
