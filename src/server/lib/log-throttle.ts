import { SystemClock, type Clock } from './clock.js';

/** What LogThrottle logs through: a pino logger, a request's. */
type Lines = Record<'debug' | 'warn' | 'error', (fields: Record<string, unknown>, message: string) => void>;

/** Kinds of line remembered at once; past that the oldest are forgotten (a kind then speaks again). */
const MAX_KINDS = 200;

/**
 * Lets the first log line of a kind through per window and counts the others, which the next line
 * let through reports: a failure repeated every second (a database gone away) is told once a
 * minute with how often it happened, not sixty times.
 */
export class LogThrottle {
  private readonly kinds = new Map<string, { until: number; held: number }>();

  constructor(
    private readonly windowMs = 60_000,
    private readonly clock: Clock = new SystemClock(),
  ) {}

  /** Undefined: keep this line quiet. Otherwise: how many lines of its kind were kept quiet since the last one told. */
  admit(kind: string): number | undefined {
    const now = this.clock.now().getTime();
    const seen = this.kinds.get(kind);
    if (seen && seen.until > now) {
      seen.held++;
      return undefined;
    }
    this.kinds.delete(kind);
    if (this.kinds.size >= MAX_KINDS) this.kinds.delete(this.kinds.keys().next().value!);
    this.kinds.set(kind, { until: now + this.windowMs, held: 0 });
    return seen?.held ?? 0;
  }

  /** Logs at `level` when its kind may speak (with how many like it were held back), else at debug. */
  log(logger: Lines, level: 'warn' | 'error', kind: string, fields: Record<string, unknown>, message: string): void {
    const repeated = this.admit(kind);
    if (repeated === undefined) logger.debug(fields, message);
    else logger[level](repeated ? { ...fields, repeated } : fields, message);
  }
}

/**
 * A log message's kind: what it says before the error it quotes (`Error listing queues: connect
 * ECONNREFUSED …` and `Error listing queues: the database system is starting up` are one kind; a
 * bare `TypeError: …` is its own), without the numbers in it (ports, pids, attempts, seconds).
 */
export function messageKind(message: string): string {
  const colon = message.indexOf(': ');
  const said = colon > 0 && message.slice(0, colon).includes(' ') ? message.slice(0, colon) : message;
  return said.replace(/\d+(\.\d+)?/g, '#');
}
