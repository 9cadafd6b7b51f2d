import type { OpenAICompatibleProvider } from '@ai-sdk/openai-compatible';
import { loadAiSdk, streamThroughAiSdk, toModelError } from './ai-sdk-stream.js';
import type { ModelClient, ModelRequest, ModelStreamEvent } from './model-client.js';
import { describeFailure, kindForStatus, ModelError } from './model-error.js';

/**
 * Any server that speaks OpenAI's chat completions (Ollama, vLLM, LM Studio) through
 * `@ai-sdk/openai-compatible`. `baseUrl` includes the API prefix, e.g. `http://localhost:11434/v1`.
 * Without a model there is no sensible default: the first model the server lists
 * (`GET {baseUrl}/models`) is used, looked up at the first request.
 */
export class OpenAiCompatibleModelClient implements ModelClient {
  readonly provider = 'openai-compatible' as const;
  /** made at the first request: the SDK is loaded then (see loadAiSdk) */
  private openai: Promise<OpenAICompatibleProvider> | undefined;
  private readonly fetchOption: typeof fetch | undefined;
  private readonly baseUrl: string;
  private readonly apiKey: string | undefined;
  private readonly fetch: typeof fetch;
  private model: string | undefined;
  private listing: Promise<string> | undefined;

  constructor(options: { baseUrl: string; apiKey?: string; model?: string; fetch?: typeof fetch }) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.apiKey = options.apiKey;
    this.model = options.model;
    this.fetch = options.fetch ?? globalThis.fetch;
    this.fetchOption = options.fetch;
  }

  get defaultModel(): string | undefined {
    return this.model;
  }

  async *stream(request: ModelRequest): AsyncGenerator<ModelStreamEvent> {
    const model = request.model ?? this.model ?? (await this.firstListedModel(request.abortSignal));
    const openai = await (this.openai ??= this.createProvider());
    yield* streamThroughAiSdk({ provider: this.provider, model: openai.chatModel(model), request, priced: false });
  }

  private async createProvider(): Promise<OpenAICompatibleProvider> {
    const [{ createOpenAICompatible }] = await Promise.all([import('@ai-sdk/openai-compatible'), loadAiSdk()]);
    return createOpenAICompatible({
      name: 'openai-compatible',
      baseURL: this.baseUrl,
      apiKey: this.apiKey,
      // ask for usage in the stream's last chunk (`stream_options.include_usage`)
      includeUsage: true,
      fetch: this.fetchOption,
    });
  }

  private firstListedModel(signal: AbortSignal | undefined): Promise<string> {
    this.listing ??= this.listModels(signal).then(
      (model) => (this.model = model),
      (error: unknown) => {
        this.listing = undefined; // a failed lookup is tried again at the next request
        throw error;
      },
    );
    return this.listing;
  }

  private async listModels(signal: AbortSignal | undefined): Promise<string> {
    const url = `${this.baseUrl}/models`;
    let response: Response;
    try {
      response = await this.fetch(url, {
        headers: this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {},
        signal,
      });
    } catch (error) {
      throw toModelError(this.provider, error);
    }
    if (!response.ok) {
      const kind = kindForStatus(response.status);
      throw new ModelError({
        kind,
        provider: this.provider,
        status: response.status,
        message: describeFailure(
          this.provider,
          kind,
          `listing its models at ${url} failed; set MAINLOOP_MODEL`,
          response.status,
        ),
      });
    }
    const body = (await response.json().catch(() => undefined)) as { data?: Array<{ id?: unknown }> } | undefined;
    const first = body?.data?.find((entry) => typeof entry.id === 'string')?.id as string | undefined;
    if (!first) {
      throw new ModelError({
        kind: 'not_configured',
        provider: this.provider,
        message: `The OpenAI-compatible server at ${this.baseUrl} lists no models. Set MAINLOOP_MODEL to the model to use (for Ollama: pull one first, e.g. \`ollama pull llama3.2\`).`,
      });
    }
    return first;
  }
}
