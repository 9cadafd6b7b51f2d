import type { Config, ModelProviderSetting, ModelsConfig } from '../config/index.js';
import { ANTHROPIC_DEFAULT_BASE_URL, AnthropicModelClient } from './anthropic.client.js';
import { ClaudeSignInProbe, type ClaudeSignIn } from './claude-credentials.js';
import { ClaudeSubscriptionModelClient, type ClaudeSubscriptionOptions } from './claude-subscription.client.js';
import type { ModelClient, ModelProviderName, ModelRequest, ModelStreamEvent } from './model-client.js';
import { ModelError } from './model-error.js';
import { OpenAiCompatibleModelClient } from './openai-compatible.client.js';
import { RetryingModelClient, type RetryOptions } from './retrying.client.js';

/** The main thread's model when MAINLOOP_MODEL is not set, for the Claude providers: fast and cheap. */
export const DEFAULT_CLAUDE_MODEL = 'claude-haiku-4-5';

/** The order `auto` tries them in. */
const AUTO_ORDER: readonly ModelProviderName[] = ['anthropic', 'openai-compatible', 'claude-subscription'];

export interface ProviderAvailability {
  name: ModelProviderName;
  available: boolean;
  /** why it is or is not available; when not, what to set and where */
  reason: string;
}

/** For `GET /api/providers`, the settings page, and the chat's "no model configured" message. */
export interface ProvidersDescription {
  /** MAINLOOP_MODEL_PROVIDER as set */
  setting: ModelProviderSetting;
  /** the provider the main thread uses */
  active: ModelProviderName | 'none';
  /** the main thread's model; undefined when none is active or the server picks it (OpenAI-compatible without MAINLOOP_MODEL) */
  model: string | undefined;
  /** a sentence or two for a person: what is used, or why nothing is and what to set */
  summary: string;
  providers: ProviderAvailability[];
}

/**
 * Which provider the main thread uses and, for each one, why it is or is not available.
 * `auto` takes the Anthropic API when ANTHROPIC_API_KEY is set, else an OpenAI-compatible
 * server when OPENAI_BASE_URL is set, else the Claude subscription when Claude Code is signed in.
 */
export function describeProviders(models: ModelsConfig, claude: ClaudeSignIn): ProvidersDescription {
  const providers: ProviderAvailability[] = [
    anthropicAvailability(models),
    openAiCompatibleAvailability(models),
    claudeSubscriptionAvailability(models, claude),
  ];
  const available = (name: ModelProviderName) => providers.find((provider) => provider.name === name)!.available;
  const setting = models.provider;

  let active: ModelProviderName | 'none' = 'none';
  if (setting === 'auto') active = AUTO_ORDER.find(available) ?? 'none';
  else if (setting !== 'none' && available(setting)) active = setting;

  const model =
    active === 'none'
      ? undefined
      : active === 'openai-compatible'
        ? models.model
        : (models.model ?? DEFAULT_CLAUDE_MODEL);
  return { setting, active, model, summary: summarize(setting, active, model, models, providers), providers };
}

function anthropicAvailability(models: ModelsConfig): ProviderAvailability {
  const baseUrl = models.anthropic.baseUrl ?? ANTHROPIC_DEFAULT_BASE_URL;
  return models.anthropic.apiKey
    ? { name: 'anthropic', available: true, reason: `ANTHROPIC_API_KEY is set; requests go to ${baseUrl}.` }
    : {
        name: 'anthropic',
        available: false,
        reason:
          'ANTHROPIC_API_KEY is not set. Create a key at https://console.anthropic.com/settings/keys and set ANTHROPIC_API_KEY in mainloop’s environment.',
      };
}

function openAiCompatibleAvailability(models: ModelsConfig): ProviderAvailability {
  const { baseUrl, apiKey } = models.openaiCompatible;
  if (!baseUrl) {
    return {
      name: 'openai-compatible',
      available: false,
      reason:
        'OPENAI_BASE_URL is not set. For a local model set OPENAI_BASE_URL to the server’s API (Ollama: http://localhost:11434/v1) and MAINLOOP_MODEL to the model (e.g. llama3.2); OPENAI_API_KEY if the server needs one.',
    };
  }
  const model = models.model ? `model ${models.model}` : 'the first model it lists (set MAINLOOP_MODEL to choose one)';
  return {
    name: 'openai-compatible',
    available: true,
    reason: `OPENAI_BASE_URL is ${baseUrl}${apiKey ? ', with OPENAI_API_KEY' : ''}; it uses ${model}.`,
  };
}

function claudeSubscriptionAvailability(models: ModelsConfig, claude: ClaudeSignIn): ProviderAvailability {
  if (!claude.signedIn) {
    return {
      name: 'claude-subscription',
      available: false,
      reason: `Claude Code is not signed in (looked at ${claude.looked.join(', ')}). To use a Claude subscription, run \`claude\` on this machine as the user mainloop runs as and sign in with /login, or run \`claude setup-token\` and set CLAUDE_CODE_OAUTH_TOKEN.`,
    };
  }
  const warning = models.anthropic.apiKey
    ? ' ANTHROPIC_API_KEY is set too: Claude Code would bill that key rather than the subscription.'
    : '';
  return {
    name: 'claude-subscription',
    available: true,
    reason: `Claude Code is signed in (${claude.source}).${warning}`,
  };
}

const LABELS: Record<ModelProviderName, string> = {
  anthropic: 'the Anthropic API',
  'openai-compatible': 'an OpenAI-compatible server',
  'claude-subscription': 'your Claude subscription (through Claude Code)',
};

const HOW_TO_CONNECT =
  'To connect one, set in mainloop’s environment and restart: ANTHROPIC_API_KEY for the Anthropic API; or OPENAI_BASE_URL and MAINLOOP_MODEL for Ollama, vLLM or LM Studio; or sign in to Claude Code on this machine (`claude`, then /login) to use a Claude subscription.';

function summarize(
  setting: ModelProviderSetting,
  active: ModelProviderName | 'none',
  model: string | undefined,
  models: ModelsConfig,
  providers: ProviderAvailability[],
): string {
  if (active !== 'none') {
    const where = active === 'openai-compatible' ? ` at ${models.openaiCompatible.baseUrl}` : '';
    const which = model ?? 'the first model the server lists';
    return `The main thread uses ${LABELS[active]}${where}, model ${which}.`;
  }
  const saved = 'What you write is still saved.';
  if (setting === 'none') {
    return `No model is connected: MAINLOOP_MODEL_PROVIDER is none, so mainloop cannot answer. ${saved} To use one, set MAINLOOP_MODEL_PROVIDER to auto (or remove it). ${HOW_TO_CONNECT}`;
  }
  if (setting !== 'auto') {
    const reason = providers.find((provider) => provider.name === setting)!.reason;
    return `No model is connected: MAINLOOP_MODEL_PROVIDER is ${setting}, but ${reason} ${saved}`;
  }
  return `No model is connected, so mainloop cannot answer yet. ${saved} ${HOW_TO_CONNECT}`;
}

/** What the main thread talks to when no provider is available: every request fails with the plain explanation. */
export class UnconfiguredModelClient implements ModelClient {
  readonly provider = 'none' as const;
  readonly defaultModel = undefined;

  constructor(private readonly summary: string) {}

  // eslint-disable-next-line require-yield
  async *stream(_request: ModelRequest): AsyncGenerator<ModelStreamEvent> {
    throw new ModelError({ kind: 'not_configured', provider: 'none', message: this.summary });
  }
}

export interface ModelSetup {
  providers: ProvidersDescription;
  /** the active provider's client, with retries; `UnconfiguredModelClient` when none */
  client: ModelClient;
}

/**
 * Detects what is available (Claude Code's sign-in included), picks the provider and builds its
 * client. Run once at start-up.
 */
export async function setUpModels(
  config: Pick<Config, 'models'>,
  options: {
    claudeSignIn?: Pick<ClaudeSignInProbe, 'detect'>;
    retry?: RetryOptions;
    /** for the Claude subscription: the CLI's environment and working directory */
    claudeCode?: Omit<ClaudeSubscriptionOptions, 'model'>;
    fetch?: typeof fetch;
  } = {},
): Promise<ModelSetup> {
  const { models } = config;
  const probe =
    options.claudeSignIn ??
    new ClaudeSignInProbe({ oauthToken: models.claudeCode.oauthToken, configDir: models.claudeCode.configDir });
  const providers = describeProviders(models, await probe.detect());
  return { providers, client: createModelClient(models, providers, options) };
}

export function createModelClient(
  models: ModelsConfig,
  providers: ProvidersDescription,
  options: { retry?: RetryOptions; claudeCode?: Omit<ClaudeSubscriptionOptions, 'model'>; fetch?: typeof fetch } = {},
): ModelClient {
  const client = baseClient(models, providers, options);
  return client.provider === 'none' ? client : new RetryingModelClient(client, options.retry);
}

function baseClient(
  models: ModelsConfig,
  providers: ProvidersDescription,
  options: { claudeCode?: Omit<ClaudeSubscriptionOptions, 'model'>; fetch?: typeof fetch },
): ModelClient {
  switch (providers.active) {
    case 'anthropic':
      return new AnthropicModelClient({
        apiKey: models.anthropic.apiKey!,
        baseUrl: models.anthropic.baseUrl,
        model: providers.model!,
        fetch: options.fetch,
      });
    case 'openai-compatible':
      return new OpenAiCompatibleModelClient({
        baseUrl: models.openaiCompatible.baseUrl!,
        apiKey: models.openaiCompatible.apiKey,
        model: providers.model,
        fetch: options.fetch,
      });
    case 'claude-subscription':
      return new ClaudeSubscriptionModelClient({ ...options.claudeCode, model: providers.model! });
    case 'none':
      return new UnconfiguredModelClient(providers.summary);
  }
}
