/**
 * Errors that say the database cannot serve anyone right now — as opposed to a bug or a refused
 * statement: it is down or restarting, it did not answer in time, its disk is full. A request that
 * meets one is answered 503 with a retry hint (http/error-handler.ts), not 500.
 */
export interface DatabaseOutage {
  kind: 'unreachable' | 'timeout' | 'disk_full' | 'overloaded';
  /** what a person reads: what is wrong and whether waiting helps */
  message: string;
  /** when trying again makes sense */
  retryAfterSeconds: number;
}

/** When a request that met a database down, restarting or slow may try again. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

const OUTAGES: Record<DatabaseOutage['kind'], Omit<DatabaseOutage, 'kind'>> = {
  unreachable: {
    message: 'the database is unreachable right now (it may be restarting); try again in a few seconds',
    retryAfterSeconds: DATABASE_RETRY_AFTER_SECONDS,
  },
  timeout: {
    message: 'the database did not answer in time; try again in a few seconds',
    retryAfterSeconds: DATABASE_RETRY_AFTER_SECONDS,
  },
  disk_full: {
    message:
      'the database’s disk is full: nothing can be saved until space is freed on the disk that holds its data directory',
    retryAfterSeconds: 60,
  },
  overloaded: {
    message: 'the database is overloaded (too many connections, or out of memory); try again in a few seconds',
    retryAfterSeconds: DATABASE_RETRY_AFTER_SECONDS,
  },
};

/** SQLSTATEs (https://www.postgresql.org/docs/current/errcodes-appendix.html) and what they mean here. */
const SQLSTATES: Record<string, DatabaseOutage['kind']> = {
  '57P01': 'unreachable', // admin_shutdown: Postgres is shutting down
  '57P02': 'unreachable', // crash_shutdown: another backend crashed
  '57P03': 'unreachable', // cannot_connect_now: starting up, in recovery
  '57014': 'timeout', // query_canceled: statement_timeout
  '53100': 'disk_full',
  '53200': 'overloaded', // out_of_memory
  '53300': 'overloaded', // too_many_connections
};

/** Sockets that failed under the driver. */
const NETWORK_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/** What pg and pg-pool say, as plain Errors, when the connection is gone or never came. */
const DRIVER_MESSAGES: Array<[RegExp, DatabaseOutage['kind']]> = [
  [/^Connection terminated due to connection timeout/, 'timeout'],
  [/^Connection terminated/, 'unreachable'],
  [/^Client has encountered a connection error and is not queryable/, 'unreachable'],
  [/^timeout exceeded when trying to connect/, 'timeout'],
  [/^Query read timeout/, 'timeout'],
];

/** The outage `error` (or an error it wraps) reports, or undefined when it reports none. */
export function databaseOutage(error: unknown): DatabaseOutage | undefined {
  for (const candidate of causes(error)) {
    const kind = kindOf(candidate);
    if (kind) return { kind, ...OUTAGES[kind] };
  }
  return undefined;
}

function kindOf(error: Error & { code?: unknown }): DatabaseOutage['kind'] | undefined {
  const code = typeof error.code === 'string' ? error.code : undefined;
  if (code) {
    if (code.startsWith('08')) return 'unreachable'; // connection_exception and its kinds
    if (SQLSTATES[code]) return SQLSTATES[code];
    if (NETWORK_ERRORS.has(code)) return 'unreachable';
  }
  return DRIVER_MESSAGES.find(([pattern]) => pattern.test(error.message))?.[1];
}

/** The error and what it wraps (`cause`, an AggregateError's `errors`, e.g. a refused connection to each address). */
function* causes(error: unknown, depth = 0): Generator<Error & { code?: unknown }> {
  if (!(error instanceof Error) || depth > 5) return;
  yield error;
  if (error instanceof AggregateError) for (const inner of error.errors) yield* causes(inner, depth + 1);
  yield* causes(error.cause, depth + 1);
}
