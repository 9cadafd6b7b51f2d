/** Time, behind a class so tests can move it. */
export class SystemClock {
  now(): Date {
    return new Date();
  }
}
export type Clock = Pick<SystemClock, keyof SystemClock>;
