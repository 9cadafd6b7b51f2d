import { createAnthropic, type AnthropicProvider } from '@ai-sdk/anthropic';
import { streamThroughAiSdk } from './ai-sdk-stream.js';
import type { ModelClient, ModelRequest, ModelStreamEvent } from './model-client.js';

export const ANTHROPIC_DEFAULT_BASE_URL = 'https://api.anthropic.com';

/**
 * The Anthropic Messages API through the Vercel AI SDK (`@ai-sdk/anthropic`).
 * `baseUrl` is written as for Anthropic's own SDKs and the Claude Code CLI (`https://api.anthropic.com`);
 * a trailing `/v1`, as the AI SDK writes it, is accepted too.
 */
export class AnthropicModelClient implements ModelClient {
  readonly provider = 'anthropic' as const;
  readonly defaultModel: string;
  private readonly anthropic: AnthropicProvider;

  constructor(options: { apiKey: string; baseUrl?: string; model: string; fetch?: typeof fetch }) {
    this.defaultModel = options.model;
    this.anthropic = createAnthropic({
      apiKey: options.apiKey,
      baseURL: messagesApiBase(options.baseUrl ?? ANTHROPIC_DEFAULT_BASE_URL),
      fetch: options.fetch,
    });
  }

  stream(request: ModelRequest): AsyncIterable<ModelStreamEvent> {
    return streamThroughAiSdk({
      provider: this.provider,
      model: this.anthropic(request.model ?? this.defaultModel),
      request,
      priced: true,
    });
  }
}

/** `https://api.anthropic.com` → `https://api.anthropic.com/v1` (the AI SDK appends `/messages`). */
export function messagesApiBase(baseUrl: string): string {
  const trimmed = baseUrl.replace(/\/+$/, '');
  return trimmed.endsWith('/v1') ? trimmed : `${trimmed}/v1`;
}
