import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from './config/index.js';
import { withAdvisoryLock } from './db/advisory-lock.js';
import { EmbeddedPostgres } from './db/embedded-postgres.js';
import type { Database } from './db/database.js';
import type { SetupLinkPrinter } from './auth/index.js';
import type { Services } from './services.js';
import type { TaskRunner } from './tasks/index.js';
import type { AgentRuntime } from './workers/index.js';
import { loadCore } from './core-loader.js';

export interface RunningServer {
  /** where the server listens, e.g. http://127.0.0.1:3000 */
  url: string;
  app: FastifyInstance;
  database: Database;
  /** where the database is, for a person (no password): the embedded Postgres's port and folder, or DATABASE_URL's host */
  databaseLabel: string;
  services: Services;
  /** Graceful: HTTP drained, DBOS stopped, Postgres stopped. Safe to call twice. */
  close(): Promise<void>;
}

export interface StartServerOptions {
  config: Config;
  logger: Logger;
  /** the built web app; false or omitted in API-only tests (default: dist/web) */
  webRoot?: string | false;
  /** where the one-time set-up link is shown (default: stdout) */
  setupLinkPrinter?: Pick<SetupLinkPrinter, 'print'>;
  /** Aborting stops start-up at its next step; what was started so far is stopped, and the start rejects. */
  signal?: AbortSignal;
  /** replacements for parts of the services (tests): the agent runtimes, what runs a created task, where bubblewrap is */
  services?: { runtimes?: AgentRuntime[]; taskRunner?: TaskRunner; bubblewrap?: string | null };
}

/** Any 64-bit number mainloop alone uses: serialises the start-up writes of instances sharing a database. */
const STARTUP_LOCK = 0x6d6c2d7374617274n; // "ml-start"

const WEB_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), findDist());

/**
 * The composition root: Postgres (embedded or DATABASE_URL) → migrations → services → DBOS and
 * HTTP → listen. Everything a later feature needs is wired here and nowhere else.
 *
 * Start-up time matters (it is benchmarked against Postgres starting alone), so this module imports
 * next to nothing: the embedded Postgres is spawned first, and everything else (the database layer,
 * Fastify and its plugins, DBOS, the services) loads while it starts in its own process. The HTTP
 * app's plugins load then too; its routes join once the services exist. DBOS opens its connections
 * while the migrations run, and launches while the owner and the API token are written.
 */
export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const { config, logger, signal } = options;
  // Undone in reverse, after the HTTP app (drained first: its requests use everything else).
  const cleanups: Array<() => Promise<void>> = [];
  let closeHttp: (() => Promise<void>) | undefined;
  const cleanUp = async () => {
    for (const cleanup of [closeHttp ?? (async () => {}), ...cleanups.reverse()])
      await cleanup().catch((error) => logger.error({ err: error }, 'shutdown step failed'));
    cleanups.length = 0;
    closeHttp = undefined;
  };
  // Milliseconds since the process started, per step: logged at debug level once listening.
  const timing: Record<string, number> = {};
  const mark = (step: string) => (timing[step] = Math.round(performance.now()));
  const continueUnlessAborted = () => {
    if (signal?.aborted) throw new Error('start-up was interrupted');
  };
  // What runs beside the main line of start-up: settled before a failed start cleans up, so that
  // nothing it opens is left behind.
  const background: Array<Promise<unknown>> = [];
  const inBackground = <T>(promise: Promise<T>): Promise<T> => {
    background.push(promise.catch(() => {}));
    promise.catch(() => {}); // awaited where it is used; not an unhandled rejection meanwhile
    return promise;
  };
  try {
    let databaseUrl = config.databaseUrl;
    let postgresReady: Promise<unknown> = Promise.resolve();
    if (!databaseUrl) {
      const embedded = new EmbeddedPostgres({ dataDir: config.dataDir, port: config.embeddedPostgresPort, logger });
      cleanups.push(() => embedded.stop());
      const postgres = await embedded.launch();
      mark('postgresSpawned');
      databaseUrl = postgres.url;
      // Awaited once the core is loaded; a failure before then is not an unhandled rejection.
      postgresReady = inBackground(postgres.ready.then(() => mark('postgresReady')));
    }
    // The core (database layer, HTTP app, services, durable runtime) loads while Postgres starts,
    // and everything that needs no database is built from it before Postgres is ready.
    const loading = loadCore({ cacheDirectory: path.join(config.dataDir, 'compile-cache') });
    const { core, compiledCode } = await loading;
    mark('coreLoaded');
    continueUnlessAborted();

    const database = core.openDatabase(databaseUrl, { timeouts: config.databaseTimeouts }); // connects at first use
    cleanups.push(() => database.close());
    const databaseHealth = new core.DatabaseHealth({ pool: database.pool, logger });
    cleanups.push(async () => databaseHealth.close());
    const durableRuntime = core.prepareDurableRuntime({
      databaseUrl,
      logger,
      applicationVersion: config.version,
      executorId: config.executorId,
      connectTimeoutMs: config.databaseTimeouts.connectMs,
    });
    cleanups.push(() => durableRuntime.close());
    const services = await core.createServices({
      config,
      logger,
      database,
      setupLinkPrinter: options.setupLinkPrinter,
      ...options.services,
    });
    cleanups.push(() => services.stop());
    mark('servicesCreated');
    const http = inBackground(
      core
        .prepareHttpApp({
          config,
          logger,
          authenticate: (request) => services.auth.authenticate(request),
          databaseHealth,
          webRoot: options.webRoot === false ? undefined : (options.webRoot ?? WEB_ROOT),
        })
        .then(async (prepared) => {
          closeHttp = () => prepared.close();
          const app = await prepared.mount(services.routes);
          await prepared.warmUp();
          return app;
        })
        .finally(() => mark('httpBuilt')),
    );
    await postgresReady;
    continueUnlessAborted();

    // One live server per executor id (db/instance-lock.ts): held before DBOS resumes its workflows.
    const locking = core.takeInstanceLock({ databaseUrl, executorId: config.executorId, logger, signal });
    inBackground(locking.then((lock) => cleanups.push(() => lock.release())));
    // Connections open while the migrations are checked, so that the next steps find them ready.
    const warming = core.openConnections(database.pool, 3).finally(() => mark('warmed'));
    durableRuntime.connect();
    const applied = await core.migrate(database.pool).finally(() => mark('migrationsChecked'));
    await warming;
    if (applied.length) logger.info({ applied }, 'database migrated');
    mark('migrated');
    databaseHealth.watch(); // it answered: from now on, health asks it
    await locking;
    continueUnlessAborted();

    // Workflows are registered by now (createServices), with the services their steps call: DBOS
    // may launch. The owner and MAINLOOP_API_TOKEN exist before the first request is answered: a
    // client that sees /api/health answer may use its token at once. Instances sharing a database
    // take turns.
    const [durable, app, owner] = await Promise.allSettled([
      durableRuntime.launch().finally(() => mark('durableLaunched')),
      http,
      withAdvisoryLock(database.pool, STARTUP_LOCK, () => services.beforeListen()).finally(() => mark('ownerReady')),
    ]);
    if (durable.status === 'fulfilled') cleanups.push(() => durable.value.shutdown());
    if (durable.status === 'rejected') throw durable.reason;
    if (app.status === 'rejected') throw app.reason;
    if (owner.status === 'rejected') throw owner.reason;
    continueUnlessAborted();

    await app.value.listen({ port: config.port, host: config.host });
    mark('listening');
    const address = app.value.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
    // The set-up link and the recovery sweep: not safe to run twice at once either.
    await withAdvisoryLock(database.pool, STARTUP_LOCK, () => services.afterListen({ url: config.publicUrl ?? url }));
    mark('started');
    // What start-up compiled is kept for the next start (the bundle only; once per build).
    void loading.then((loaded) => loaded.keepCompiledCode());
    logger.debug({ msSinceProcessStart: timing, compiledCode }, 'start-up timing');

    let closing: Promise<void> | undefined;
    const databaseLabel = config.databaseUrl
      ? `DATABASE_URL: ${describeDatabaseUrl(config.databaseUrl)}`
      : `embedded Postgres on ${describeDatabaseUrl(databaseUrl)} (${path.join(config.dataDir, 'postgres')})`;
    return { url, app: app.value, database, databaseLabel, services, close: () => (closing ??= cleanUp()) };
  } catch (error) {
    await Promise.all(background);
    await cleanUp();
    throw error;
  }
}

/** src/server/server.ts and the bundle (dist/server) both find the built web app at <root>/dist/web. */
function findDist(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  return here.includes(`${path.sep}dist${path.sep}`) || here.endsWith(`${path.sep}dist${path.sep}server`)
    ? '../web'
    : '../../dist/web';
}

/** host:port/database of a Postgres URL, without who connects or how. */
function describeDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.host}${parsed.pathname}`;
  } catch {
    return 'a Postgres server';
  }
}
