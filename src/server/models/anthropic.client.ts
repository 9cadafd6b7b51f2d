import type { AnthropicProvider } from '@ai-sdk/anthropic';
import { loadAiSdk, streamThroughAiSdk } from './ai-sdk-stream.js';
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
  /** made at the first request: the SDK is loaded then (see loadAiSdk) */
  private anthropic: Promise<AnthropicProvider> | undefined;

  constructor(private readonly options: { apiKey: string; baseUrl?: string; model: string; fetch?: typeof fetch }) {
    this.defaultModel = options.model;
  }

  async *stream(request: ModelRequest): AsyncGenerator<ModelStreamEvent> {
    const anthropic = await (this.anthropic ??= this.createProvider());
    yield* streamThroughAiSdk({
      provider: this.provider,
      model: anthropic(request.model ?? this.defaultModel),
      request,
      priced: true,
    });
  }

  private async createProvider(): Promise<AnthropicProvider> {
    const [{ createAnthropic }] = await Promise.all([import('@ai-sdk/anthropic'), loadAiSdk()]);
    return createAnthropic({
      apiKey: this.options.apiKey,
      baseURL: messagesApiBase(this.options.baseUrl ?? ANTHROPIC_DEFAULT_BASE_URL),
      fetch: this.options.fetch,
    });
  }
}

/** `https://api.anthropic.com` → `https://api.anthropic.com/v1` (the AI SDK appends `/messages`). */
export function messagesApiBase(baseUrl: string): string {
  const trimmed = baseUrl.replace(/\/+$/, '');
  return trimmed.endsWith('/v1') ? trimmed : `${trimmed}/v1`;
}
