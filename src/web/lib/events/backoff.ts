export interface BackoffOptions {
  /** The first delay after a failure. */
  initialMs?: number;
  /** No delay is longer than this. */
  maxMs?: number;
  factor?: number;
  /** A number in [0, 1); injectable so that tests are deterministic. */
  random?: () => number;
}

/**
 * Exponential backoff with jitter: each failure doubles the delay up to `maxMs`; the
 * actual delay is drawn from the upper half of that window so that many devices
 * reconnecting after a server restart do not arrive all at once. `reset()` after a success.
 */
export class Backoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #factor: number;
  readonly #random: () => number;
  #attempt = 0;

  constructor(options: BackoffOptions = {}) {
    this.#initialMs = options.initialMs ?? 500;
    this.#maxMs = options.maxMs ?? 10_000;
    this.#factor = options.factor ?? 2;
    this.#random = options.random ?? Math.random;
  }

  /** How many failures since the last reset. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The delay before the next try; counts one more failure. */
  next(): number {
    const ceiling = Math.min(this.#maxMs, this.#initialMs * this.#factor ** this.#attempt);
    this.#attempt++;
    return Math.round(ceiling / 2 + (ceiling / 2) * this.#random());
  }

  reset(): void {
    this.#attempt = 0;
  }
}
