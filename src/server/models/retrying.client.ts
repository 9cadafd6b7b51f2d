import { abortedError } from './ai-sdk-stream.js';
import type { ModelClient, ModelRequest, ModelStreamEvent } from './model-client.js';
import { ModelError, rootMessage } from './model-error.js';

export interface RetryOptions {
  /** requests in all, the first included (default 4) */
  maxAttempts?: number;
  /** the first backoff (default 1 s); it doubles with each retry */
  baseDelayMs?: number;
  /** the longest backoff (default 30 s) */
  maxDelayMs?: number;
  /** a `retry-after` longer than this is not waited for: the error is raised (default 60 s) */
  maxRetryAfterMs?: number;
  /** no event for this long fails the request as a timeout (default 120 s) */
  idleTimeoutMs?: number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** in [0, 1); for the jitter */
  random?: () => number;
  onRetry?: (retry: { attempt: number; delayMs: number; error: ModelError }) => void;
}

/**
 * Retries what may succeed later — 429, 529/overloaded, 5xx, timeouts, dropped connections —
 * with exponential backoff and jitter, honouring `retry-after`.
 *
 * Only while nothing was yielded: once text or a tool call reached the caller, a failure is
 * raised with `afterOutput: true` instead of being retried, because a retry would stream a
 * different reply after the one already shown. The caller (the turn engine) knows what it
 * showed and decides: mark the message as failed with a Retry action, or discard and call again.
 */
export class RetryingModelClient implements ModelClient {
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly maxRetryAfterMs: number;
  private readonly idleTimeoutMs: number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly random: () => number;
  private readonly onRetry: RetryOptions['onRetry'];

  constructor(
    private readonly inner: ModelClient,
    options: RetryOptions = {},
  ) {
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 4);
    this.baseDelayMs = options.baseDelayMs ?? 1000;
    this.maxDelayMs = options.maxDelayMs ?? 30_000;
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? 60_000;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 120_000;
    this.sleep = options.sleep ?? abortableSleep;
    this.random = options.random ?? Math.random;
    this.onRetry = options.onRetry;
  }

  get provider() {
    return this.inner.provider;
  }

  get defaultModel() {
    return this.inner.defaultModel;
  }

  async *stream(request: ModelRequest): AsyncGenerator<ModelStreamEvent> {
    for (let attempt = 1; ; attempt += 1) {
      let emitted = false;
      try {
        for await (const event of this.attempt(request)) {
          if (event.type !== 'finish') emitted = true;
          yield event;
        }
        return;
      } catch (thrown) {
        if (request.abortSignal?.aborted) throw abortedError(this.provider, request.abortSignal);
        const error = asModelError(thrown, this.provider).with({ attempts: attempt });
        if (emitted) throw error.with({ afterOutput: true });
        const delayMs = this.delayFor(attempt, error);
        if (!error.retryable || attempt >= this.maxAttempts || delayMs === undefined) {
          throw attempt > 1 ? error.with({ message: `${error.message} (gave up after ${attempt} attempts)` }) : error;
        }
        this.onRetry?.({ attempt, delayMs, error });
        try {
          await this.sleep(delayMs, request.abortSignal);
        } catch {
          throw abortedError(this.provider, request.abortSignal);
        }
      }
    }
  }

  /** The wait before the next attempt, or undefined when the provider asks for longer than we wait. */
  private delayFor(attempt: number, error: ModelError): number | undefined {
    if (error.retryAfterMs !== undefined) {
      return error.retryAfterMs > this.maxRetryAfterMs ? undefined : error.retryAfterMs;
    }
    const ceiling = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1));
    // "equal jitter": at least half the backoff, so retries neither stampede nor come too soon
    return Math.round(ceiling / 2 + this.random() * (ceiling / 2));
  }

  /** One request, failed as a timeout when no event arrives for `idleTimeoutMs`. */
  private async *attempt(request: ModelRequest): AsyncGenerator<ModelStreamEvent> {
    const controller = new AbortController();
    const forwardAbort = () => controller.abort(request.abortSignal?.reason);
    if (request.abortSignal?.aborted) forwardAbort();
    request.abortSignal?.addEventListener('abort', forwardAbort, { once: true });
    const iterator = this.inner.stream({ ...request, abortSignal: controller.signal })[Symbol.asyncIterator]();
    let timer: NodeJS.Timeout | undefined;
    let finished = false;
    try {
      for (;;) {
        const next = iterator.next();
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            const error = new ModelError({
              kind: 'timeout',
              provider: this.provider,
              message: `The model sent nothing for ${Math.round(this.idleTimeoutMs / 1000)} s.`,
            });
            controller.abort(error);
            reject(error);
          }, this.idleTimeoutMs);
        });
        next.catch(() => {}); // it may settle after the timeout won the race
        const result = await Promise.race([next, timeout]);
        clearTimeout(timer);
        if (result.done) {
          finished = true;
          return;
        }
        yield result.value;
      }
    } finally {
      clearTimeout(timer);
      request.abortSignal?.removeEventListener('abort', forwardAbort);
      if (!finished) {
        controller.abort();
        void iterator.return?.()?.catch(() => {});
      }
    }
  }
}

function asModelError(error: unknown, provider: ModelClient['provider']): ModelError {
  if (error instanceof ModelError) return error;
  return new ModelError({
    kind: 'unknown',
    provider,
    message: `The model request failed: ${rootMessage(error)}`,
    cause: error,
  });
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
