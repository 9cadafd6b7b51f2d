import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from './config/index.js';
import { EmbeddedPostgres } from './db/embedded-postgres.js';
import { openDatabase, type Database } from './db/database.js';
import { migrate } from './db/migrate.js';
import { createHttpApp } from './http/app.js';
import { launchDurableRuntime, type DurableRuntime } from './workflows/durable.js';
import { createServices, type Services } from './services.js';
import type { SetupLinkPrinter } from './auth/index.js';

export interface RunningServer {
  /** where the server listens, e.g. http://127.0.0.1:3000 */
  url: string;
  app: FastifyInstance;
  database: Database;
  services: Services;
  /** Graceful: HTTP drained, DBOS stopped, Postgres stopped. Safe to call twice. */
  close(): Promise<void>;
}

const WEB_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), findDist());

/**
 * The composition root: Postgres (embedded or DATABASE_URL) → migrations → DBOS → services →
 * HTTP. Everything a later feature needs is wired here and nowhere else.
 */
export async function startServer(options: {
  config: Config;
  logger: Logger;
  webRoot?: string | false;
  /** where the one-time set-up link is shown (default: stdout) */
  setupLinkPrinter?: Pick<SetupLinkPrinter, 'print'>;
}): Promise<RunningServer> {
  const { config, logger } = options;
  const cleanups: Array<() => Promise<void>> = [];
  const cleanUp = async () => {
    for (const cleanup of cleanups.reverse())
      await cleanup().catch((error) => logger.error({ err: error }, 'shutdown step failed'));
    cleanups.length = 0;
  };
  try {
    let databaseUrl = config.databaseUrl;
    if (!databaseUrl) {
      const embedded = new EmbeddedPostgres({ dataDir: config.dataDir, port: config.embeddedPostgresPort, logger });
      cleanups.push(() => embedded.stop());
      databaseUrl = await embedded.start();
    }
    const database = openDatabase(databaseUrl);
    cleanups.push(() => database.close());
    const applied = await migrate(database.pool);
    if (applied.length) logger.info({ applied }, 'database migrated');

    const durable: DurableRuntime = await launchDurableRuntime({ databaseUrl, logger });
    cleanups.push(() => durable.shutdown());

    const services = await createServices({ config, logger, database, setupLinkPrinter: options.setupLinkPrinter });
    cleanups.push(() => services.stop());

    const app = await createHttpApp({
      config,
      logger,
      authenticate: (request) => services.auth.authenticate(request),
      routes: services.routes,
      webRoot: options.webRoot === false ? undefined : (options.webRoot ?? WEB_ROOT),
    });
    cleanups.push(() => app.close());
    await app.listen({ port: config.port, host: config.host });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
    await services.afterListen({ url: config.publicUrl ?? url });

    let closing: Promise<void> | undefined;
    return { url, app, database, services, close: () => (closing ??= cleanUp()) };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}

/** src/server/server.ts and dist/server/main.js both find the built web app at <root>/dist/web. */
function findDist(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  return here.includes(`${path.sep}dist${path.sep}`) || here.endsWith(`${path.sep}dist${path.sep}server`)
    ? '../web'
    : '../../dist/web';
}
