import { loadConfig, ConfigError } from './config/index.js';
import { createLogger } from './logger.js';
import { startServer } from './server.js';

/** `npm start`: run mainloop until SIGTERM or SIGINT, then shut down cleanly. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config);
  const server = await startServer({ config, logger });
  logger.info(
    { url: server.url, dataDir: config.databaseUrl ? undefined : config.dataDir },
    `mainloop is running at ${server.url}`,
  );
  process.stdout.write(
    `\n  mainloop ${config.version} is running at ${config.publicUrl ?? server.url}\n  data: ${config.databaseUrl ? 'DATABASE_URL' : config.dataDir}\n\n`,
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, 30_000);
    force.unref();
    await server.close();
    logger.info('stopped');
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(
    `mainloop failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
