/**
 * `work`'s outcome, or a rejection with `timedOut()` once `ms` have passed first. The work itself
 * goes on (nothing here can stop it); callers that must not wait for ever still see how it ended.
 */
export function within<T>(work: Promise<T>, ms: number, timedOut: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timedOut()), ms);
    timer.unref();
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
