import { DBOS, type ContextualMetadata, type DLogger, type StackTrace } from '@dbos-inc/dbos-sdk';
import { dbRetryConfig } from '@dbos-inc/dbos-sdk/internal/utils';
import pg from 'pg';
import type { Logger } from 'pino';
import { withAdvisoryLock } from '../db/advisory-lock.js';
import { openConnections } from '../db/database.js';
import { LogThrottle, messageKind } from '../lib/log-throttle.js';

export interface DurableRuntime {
  /** Stops dispatching and running workflows here (those in flight stay PENDING and resume at the next launch). */
  shutdown(): Promise<void>;
}

export interface DurableRuntimeOptions {
  databaseUrl: string;
  logger: Logger;
  /**
   * Which code a PENDING workflow may be resumed by. DBOS only recovers workflows started under
   * the same version, and by default derives it from a hash of the workflow functions' source,
   * which differs between the tsx and the bundled build and between any two commits: a task
   * interrupted by an upgrade would then never resume. mainloop passes its package version, so
   * in-flight workflows survive restarts and upgrades; a workflow whose steps changed
   * incompatibly must stay replayable (`DBOS.patch`) or take a new name.
   */
  applicationVersion: string;
  /**
   * This server's name among those sharing the database (default `local`): DBOS resumes, at
   * launch, the unfinished workflows recorded under it (see db/instance-lock.ts).
   */
  executorId?: string;
  /** Connections DBOS may use at once (default 10). */
  poolSize?: number;
  /** how long getting a connection may take (default 5 s): MAINLOOP_DB_CONNECT_TIMEOUT_MS */
  connectTimeoutMs?: number;
}

/** DBOS's system tables live beside mainloop's own, in this schema of the same database. */
export const DURABLE_SCHEMA = 'dbos';
/**
 * DBOS migrates its schema at launch without a lock, and two instances starting together on an
 * empty database would race on it: this advisory lock makes them take turns; the second then finds
 * the schema current.
 */
const LAUNCH_LOCK = 0x6d6c2d64626f73n; // "ml-dbos"
/** What DBOS sets itself on each connection it opens; set here at connect time instead (see below). */
const IDLE_IN_TRANSACTION_TIMEOUT_MS = 60_000;
/**
 * DBOS retries its database calls for as long as the database is gone (its workflows pause rather
 * than fail), waiting twice as long after each failure, up to a minute by default: after an outage
 * of a minute or more, its work would resume up to a minute and a half after the database came
 * back. Capped here so that it resumes within seconds; a retry costs one connection attempt.
 */
const DBOS_LONGEST_RETRY_WAIT_SECONDS = 4;

/**
 * DBOS on mainloop's own Postgres, in its own schema (`dbos`), so one database (embedded or
 * DATABASE_URL) holds everything. Register workflows (`DBOS.registerWorkflow`, e.g.
 * `registerTaskWorkflow`) before calling this; queues (`DBOS.registerQueue`) after it.
 * Launching recovers the workflows this executor left PENDING (a crash, a kill, a restart).
 */
export async function launchDurableRuntime(options: DurableRuntimeOptions): Promise<DurableRuntime> {
  return prepareDurableRuntime(options).launch();
}

export interface PreparedDurableRuntime {
  /** Opens DBOS's connections ahead of the launch; call once the database takes connections. */
  connect(): void;
  /** Launches DBOS (see launchDurableRuntime); once only. */
  launch(): Promise<DurableRuntime>;
  /** Closes the connections when launch() was never called (or failed); safe to call always. */
  close(): Promise<void>;
}

/**
 * Sets DBOS up to launch later: start-up calls this before the services register their workflows,
 * and `connect()` as soon as Postgres takes connections, so that the launch finds them open.
 */
export function prepareDurableRuntime(options: DurableRuntimeOptions): PreparedDurableRuntime {
  const { logger } = options;
  // Our own pool rather than DBOS's: DBOS sets `idle_in_transaction_session_timeout` on each new
  // connection with a query it does not await, so the first real query queues behind it and pg
  // warns "Calling client.query() when the client is already executing a query is deprecated".
  // Passing the setting in the startup packet does the same without the extra round trip.
  const pool = new pg.Pool({
    connectionString: options.databaseUrl,
    max: options.poolSize ?? 10,
    options: `-c idle_in_transaction_session_timeout=${IDLE_IN_TRANSACTION_TIMEOUT_MS}`,
    application_name: 'mainloop-dbos',
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
    keepAlive: true,
  });
  // Every idle connection fails at once when the database goes: said once a minute.
  const failures = new LogThrottle();
  pool.on('error', (error) => {
    if (pool.ending) return;
    failures.log(logger, 'warn', 'idle', { err: error }, 'durable runtime: an idle database connection failed');
  });
  // Launching takes several connections one after another (migrations, LISTEN, its self-test):
  // opening them together first saves a few round trips of start-up.
  let warming: Promise<void> | undefined;
  const connect = () => (warming ??= openConnections(pool, 4));
  let launched = false;

  return {
    connect() {
      void connect();
    },
    async launch() {
      if (launched) throw new Error('the durable runtime was launched already');
      launched = true;
      const dbosLogger = new PinoDbosLogger(logger.child({ component: 'dbos' }));
      dbRetryConfig.maxBackoffSec = DBOS_LONGEST_RETRY_WAIT_SECONDS;
      DBOS.setConfig({
        name: 'mainloop',
        systemDatabaseUrl: options.databaseUrl,
        systemDatabasePool: pool,
        systemDatabaseSchemaName: DURABLE_SCHEMA,
        applicationVersion: options.applicationVersion,
        executorID: options.executorId ?? 'local',
        logger: dbosLogger,
      });
      try {
        await connect();
        await withAdvisoryLock(pool, LAUNCH_LOCK, () => DBOS.launch());
      } catch (error) {
        await DBOS.shutdown().catch(() => {});
        await pool.end().catch(() => {});
        throw error;
      }
      return {
        async shutdown() {
          dbosLogger.shuttingDown = true;
          await DBOS.shutdown();
          await pool.end();
        },
      };
    },
    async close() {
      if (launched) return; // the launched runtime's shutdown (or the failed launch) ends the pool
      launched = true;
      await warming;
      await pool.end().catch(() => {});
    },
  };
}

/**
 * DBOS's log lines, through our pino logger. Its chatty launch messages (version, executor id,
 * "DBOS launched!") become debug; recovering workflows stays info; errors stay; warnings stay, each
 * kind at most once a minute (with how many like it were held back): with its database gone, DBOS
 * warns from each of its loops every time round, ten lines a second.
 */
export class PinoDbosLogger implements DLogger {
  /** Once set, DBOS's warnings (connections it is still closing, mostly) are expected: debug. */
  shuttingDown = false;

  constructor(
    private readonly logger: Logger,
    private readonly throttle = new LogThrottle(),
  ) {}

  info(entry: unknown, metadata?: ContextualMetadata): void {
    const message = String(entry);
    if (/^Recovering \d+ workflows/.test(message)) this.logger.info(fields(metadata), message);
    else this.logger.debug(fields(metadata), message);
  }

  debug(entry: unknown, metadata?: ContextualMetadata): void {
    this.logger.debug(fields(metadata), String(entry));
  }

  warn(entry: unknown, metadata?: ContextualMetadata): void {
    const message = String(entry);
    if (this.shuttingDown) this.logger.debug(fields(metadata), message);
    else this.throttle.log(this.logger, 'warn', messageKind(message), fields(metadata), message);
  }

  error(entry: unknown, metadata?: ContextualMetadata & StackTrace): void {
    const error = metadata?.error instanceof Error ? metadata.error : undefined;
    this.logger.error({ ...fields(metadata), ...(error ? { err: error } : { stack: metadata?.stack }) }, String(entry));
  }
}

function fields(metadata: ContextualMetadata | undefined): Record<string, unknown> {
  const attributes = metadata?.span?.attributes;
  if (!attributes) return {};
  const workflowId = attributes.operationUUID;
  const operation = attributes.operationName;
  return {
    ...(typeof workflowId === 'string' ? { workflowId } : {}),
    ...(typeof operation === 'string' ? { operation } : {}),
  };
}
