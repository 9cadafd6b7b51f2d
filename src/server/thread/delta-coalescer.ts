/**
 * Streamed text, sent on in fewer, larger pieces: the first piece at once (the person sees the
 * reply start without delay), then whatever arrived meanwhile at most every `intervalMs`. Each
 * piece becomes one stored `message.delta` event, so this bounds the rows a reply writes.
 * Pieces are published one after another, in order.
 */
export class DeltaCoalescer {
  private pending = '';
  private lastSentAt = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private failure: unknown;

  constructor(
    private readonly options: {
      publish: (text: string) => Promise<unknown>;
      intervalMs: number;
      now?: () => number;
    },
  ) {}

  push(text: string): void {
    if (!text) return;
    this.pending += text;
    if (this.timer) return;
    const wait = this.lastSentAt + this.options.intervalMs - this.now();
    if (wait <= 0) {
      this.send();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.send();
    }, wait);
  }

  /** Sends what is held and waits until every piece is published; throws if one could not be. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.send();
    await this.chain;
    if (this.failure) throw this.failure;
  }

  /** Drops what is held and stops the timer (the stream failed or the turn stops). */
  discard(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = '';
  }

  private send(): void {
    const text = this.pending;
    if (!text) return;
    this.pending = '';
    this.lastSentAt = this.now();
    this.chain = this.chain.then(async () => {
      if (this.failure) return;
      try {
        await this.options.publish(text);
      } catch (error) {
        this.failure = error;
      }
    });
  }

  private now(): number {
    return this.options.now ? this.options.now() : performance.now();
  }
}
