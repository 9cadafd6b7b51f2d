/**
 * A scroller that sticks to its bottom while the person is there (what grows below stays in
 * view), and stays put once they scroll up, counting what arrived meanwhile for a "latest"
 * button. The chat's thread and a task's log both read this way.
 */
export class FollowBottom {
  /** the person's intent: follow the newest content */
  following = $state(true);
  /** what arrived below while not following */
  unread = $state(0);
  private lastScrollTop = 0;

  /** @param nearBottomPx this close to the bottom counts as at the bottom */
  constructor(private readonly nearBottomPx: number) {}

  /** The scroller's `scroll` event. */
  scrolled(scroller: HTMLElement): void {
    const top = scroller.scrollTop;
    const distance = scroller.scrollHeight - top - scroller.clientHeight;
    // Only a move upwards means "I am reading back": content that grew after our own scroll to
    // the bottom (a long message, streamed text) also leaves a distance, but must not stop following.
    if (distance <= this.nearBottomPx) this.following = true;
    else if (top < this.lastScrollTop - 1) this.following = false;
    this.lastScrollTop = top;
    if (this.following) this.unread = 0;
  }

  /** Back to the bottom, following again. */
  toLatest(scroller: HTMLElement | undefined, behavior: ScrollBehavior = 'auto'): void {
    this.following = true;
    this.unread = 0;
    scroller?.scrollTo({ top: scroller.scrollHeight, behavior });
  }

  /** `count` new things arrived below: counted unless the person is following. */
  arrived(count: number): void {
    if (!this.following && count > 0) this.unread += count;
  }

  /** Keeps the bottom in view whenever `content` grows while following; returns the teardown (for an $effect). */
  track(content: HTMLElement, scroller: HTMLElement): () => void {
    const observer = new ResizeObserver(() => {
      if (this.following) scroller.scrollTop = scroller.scrollHeight;
    });
    observer.observe(content);
    return () => observer.disconnect();
  }

  /** Runs `grow`, which adds content above what is on screen, without moving what is on screen. */
  async keepingPlace(scroller: HTMLElement, grow: () => Promise<void>): Promise<void> {
    const fromBottom = scroller.scrollHeight - scroller.scrollTop;
    await grow();
    if (!this.following) scroller.scrollTop = scroller.scrollHeight - fromBottom;
  }
}
