import type { ProvidersResponse } from '../../../contract/index.js';

/** Whether the main thread has a model to answer with, and what to tell the person when it does not. */
export interface ProviderNotice {
  configured: boolean;
  /** the server's own words: what is used, or what to set and where */
  text: string;
}

const FALLBACK =
  'No model provider is configured, so mainloop cannot answer yet. What you write is still saved. Set ANTHROPIC_API_KEY, or OPENAI_BASE_URL and MAINLOOP_MODEL, in mainloop’s environment and restart it.';

/** `GET /api/providers` as a notice: the server's `summary`, else the reasons it gives per provider. */
export function providerNotice(response: ProvidersResponse): ProviderNotice {
  const configured = response.active !== null && response.active !== undefined;
  const summary = response.summary?.trim();
  if (summary) return { configured, text: summary };
  if (configured) {
    const { provider, model } = response.active!;
    return { configured, text: `The main thread uses ${provider}${model ? `, model ${model}` : ''}.` };
  }
  const reasons = (response.providers ?? [])
    .filter((provider) => !provider.available && provider.reason)
    .map((provider) => provider.reason.trim());
  return { configured, text: reasons.length > 0 ? `No model provider is configured. ${reasons.join(' ')}` : FALLBACK };
}
