/**
 * Runs some work at most once per animation frame however often it is asked for, and backs
 * off when the work is expensive: after a run that took `t` ms, the next waits at least
 * `t * budgetFactor` ms, so rendering a long streaming reply takes a bounded share of the
 * main thread (about 1 / (1 + budgetFactor)) instead of every frame.
 */
export interface FrameScheduler {
  request(callback: () => void): unknown;
  cancel(handle: unknown): void;
  now(): number;
}

export const browserFrames: FrameScheduler = {
  request: (callback) => requestAnimationFrame(() => callback()),
  cancel: (handle) => cancelAnimationFrame(handle as number),
  now: () => performance.now(),
};

export class FrameThrottle {
  readonly #work: () => void;
  readonly #frames: FrameScheduler;
  readonly #budgetFactor: number;
  #handle: unknown;
  #notBefore = 0;

  constructor(work: () => void, options: { frames?: FrameScheduler; budgetFactor?: number } = {}) {
    this.#work = work;
    this.#frames = options.frames ?? browserFrames;
    this.#budgetFactor = options.budgetFactor ?? 4;
  }

  get pending(): boolean {
    return this.#handle !== undefined;
  }

  schedule(): void {
    if (this.#handle !== undefined) return;
    this.#handle = this.#frames.request(() => this.#onFrame());
  }

  /** Runs now if something is pending (e.g. the stream completed). */
  flush(): void {
    if (this.#handle === undefined) return;
    this.cancel();
    this.#run();
  }

  cancel(): void {
    if (this.#handle !== undefined) this.#frames.cancel(this.#handle);
    this.#handle = undefined;
  }

  #onFrame(): void {
    this.#handle = undefined;
    if (this.#frames.now() < this.#notBefore) {
      this.#handle = this.#frames.request(() => this.#onFrame());
      return;
    }
    this.#run();
  }

  #run(): void {
    const started = this.#frames.now();
    this.#work();
    const took = this.#frames.now() - started;
    this.#notBefore = this.#frames.now() + took * this.#budgetFactor;
  }
}
