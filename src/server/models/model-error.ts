import type { ModelProviderName } from './model-client.js';

export const MODEL_ERROR_KINDS = [
  'rate_limited',
  'overloaded',
  'server',
  'timeout',
  'network',
  'auth',
  'bad_request',
  'not_configured',
  'aborted',
  'unknown',
] as const;
export type ModelErrorKind = (typeof MODEL_ERROR_KINDS)[number];

/** Kinds where the same request may well succeed a little later. */
const RETRYABLE: ReadonlySet<ModelErrorKind> = new Set(['rate_limited', 'overloaded', 'server', 'timeout', 'network']);

export interface ModelErrorOptions {
  kind: ModelErrorKind;
  message: string;
  provider?: ModelProviderName | 'none';
  /** HTTP status, when the provider answered with one */
  status?: number;
  /** default: by kind */
  retryable?: boolean;
  /** what the provider asked for in `retry-after` */
  retryAfterMs?: number;
  /** the stream had already yielded text or tool calls when it failed */
  afterOutput?: boolean;
  /** requests made, retries included */
  attempts?: number;
  cause?: unknown;
}

/**
 * A model request that failed, with a message a person can read in the thread ("The Anthropic
 * API is overloaded right now (HTTP 529)…"). `retryable` says whether the same request may
 * succeed later; `afterOutput` says the reply was already partly streamed, so it was not retried
 * and the caller must decide what to do with what it showed (mark the message, offer Retry).
 */
export class ModelError extends Error {
  readonly kind: ModelErrorKind;
  readonly provider: ModelProviderName | 'none' | undefined;
  readonly status: number | undefined;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  readonly afterOutput: boolean;
  readonly attempts: number;

  constructor(options: ModelErrorOptions) {
    super(options.message, { cause: options.cause });
    this.name = 'ModelError';
    this.kind = options.kind;
    this.provider = options.provider;
    this.status = options.status;
    this.retryable = options.retryable ?? RETRYABLE.has(options.kind);
    this.retryAfterMs = options.retryAfterMs;
    this.afterOutput = options.afterOutput ?? false;
    this.attempts = options.attempts ?? 1;
  }

  /** A copy with some fields changed (the message, attempts, afterOutput). */
  with(changes: Partial<ModelErrorOptions>): ModelError {
    return new ModelError({ ...this.options(), ...changes });
  }

  private options(): ModelErrorOptions {
    return {
      kind: this.kind,
      message: this.message,
      provider: this.provider,
      status: this.status,
      retryable: this.retryable,
      retryAfterMs: this.retryAfterMs,
      afterOutput: this.afterOutput,
      attempts: this.attempts,
      cause: this.cause,
    };
  }
}

/** What each provider is called in messages, and what a person changes when it refuses them. */
export const PROVIDER_LABELS: Record<ModelProviderName, { name: string; credentials: string }> = {
  anthropic: { name: 'the Anthropic API', credentials: 'check ANTHROPIC_API_KEY' },
  'openai-compatible': { name: 'the OpenAI-compatible server', credentials: 'check OPENAI_API_KEY' },
  'claude-subscription': {
    name: 'the Claude subscription (Claude Code)',
    credentials: 'sign in again: run `claude` and then `/login`',
  },
};

/** The kind an HTTP status means, for the APIs mainloop talks to. */
export function kindForStatus(status: number): ModelErrorKind {
  if (status === 401 || status === 403) return 'auth';
  if (status === 429) return 'rate_limited';
  if (status === 529 || status === 503) return 'overloaded';
  if (status === 408 || status === 504) return 'timeout';
  // 409: Anthropic's own SDK retries it (a lock timeout on their side)
  if (status === 409 || status >= 500) return 'server';
  if (status >= 400) return 'bad_request';
  return 'unknown';
}

/** A person-readable message for a failure of `provider`, with what to do when there is something to do. */
export function describeFailure(
  provider: ModelProviderName,
  kind: ModelErrorKind,
  detail: string | undefined,
  status?: number,
): string {
  const label = PROVIDER_LABELS[provider];
  const code = status ? ` (HTTP ${status})` : '';
  const tail = detail ? `: ${detail.trim().replace(/\.+$/, '')}` : '';
  switch (kind) {
    case 'rate_limited':
      return `${capitalize(label.name)} is rate limiting mainloop${code}${tail}. Try again in a minute.`;
    case 'overloaded':
      return `${capitalize(label.name)} is overloaded right now${code}${tail}. Try again in a moment.`;
    case 'server':
      return `${capitalize(label.name)} failed${code}${tail}.`;
    case 'timeout':
      return `${capitalize(label.name)} did not answer in time${code}${tail}.`;
    case 'network':
      return `mainloop lost the connection to ${label.name}${tail}.`;
    case 'auth':
      return `${capitalize(label.name)} refused mainloop's credentials${code}${tail}. To fix it, ${label.credentials}.`;
    case 'bad_request':
      return `${capitalize(label.name)} rejected the request${code}${tail}.`;
    default:
      return `${capitalize(label.name)} failed${code}${tail}.`;
  }
}

/** `retry-after-ms` or `retry-after` (seconds or an HTTP date) in milliseconds. */
export function parseRetryAfter(
  headers: Record<string, string | undefined> | undefined,
  now: () => number = Date.now,
): number | undefined {
  if (!headers) return undefined;
  const milliseconds = Number(headers['retry-after-ms']);
  if (headers['retry-after-ms'] && Number.isFinite(milliseconds) && milliseconds >= 0) return milliseconds;
  const value = headers['retry-after'];
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now());
}

/** Whether `error` (or one of its causes) is a dropped or refused connection rather than an answer. */
export function isNetworkFailure(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 5; depth += 1) {
    const { code, message, name } = current as { code?: unknown; message?: unknown; name?: unknown };
    if (typeof code === 'string' && /^(ECONN|EPIPE|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|UND_ERR)/.test(code)) {
      return true;
    }
    if (typeof message === 'string' && /^(terminated|fetch failed|other side closed|socket hang up)/i.test(message)) {
      return true;
    }
    if (name === 'SocketError') return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** The innermost message of an error chain, for "lost the connection: other side closed". */
export function rootMessage(error: unknown): string {
  let message = error instanceof Error ? error.message : String(error);
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth += 1) {
    message = current.message || message;
    current = current.cause;
  }
  return message;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
