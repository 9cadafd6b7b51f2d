import { existsSync } from 'node:fs';
import module from 'node:module';
import path from 'node:path';
import type { Logger } from 'pino';
import { loadConfig, ConfigError, type Config } from './config/index.js';
import { isStartupRefused } from './errors.js';
import { createLogger, isReadable } from './logger.js';
import { startServer, type RunningServer } from './server.js';

const SHUTDOWN_TIMEOUT_MS = 30_000;

/**
 * `npm start`: run mainloop until SIGTERM or SIGINT, then shut down cleanly (exit code 0), also
 * when the signal comes during start-up. A crash (an unhandled error) still stops the embedded
 * Postgres before exiting with 1.
 */
async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  // Node 22.1+ keeps V8's compiled code of the modules that load from here on (most of start-up,
  // see server.ts) between runs: in the data directory, which only this user can write to, once
  // it exists (made with its permissions by the first start). Node 20 has no such cache.
  if (existsSync(config.dataDir)) {
    (module as { enableCompileCache?: (directory: string) => unknown }).enableCompileCache?.(
      path.join(config.dataDir, 'compile-cache'),
    );
  }
  const logger = createLogger(config);
  const lifecycle = new Lifecycle(logger);
  lifecycle.handleSignalsAndCrashes();

  const server = await lifecycle.starting(startServer({ config, logger, signal: lifecycle.signal }));
  if (!server) return; // a signal or a crash came first; the shutdown is under way
  await sayWhatRuns(config, server, logger);
}

/**
 * Start-up ends with one summary of what runs: a block for a person on a terminal, else one log
 * line with the same parts as fields.
 */
async function sayWhatRuns(config: Config, server: RunningServer, logger: Logger): Promise<void> {
  const url = config.publicUrl ?? server.url;
  const parts = await server.services.describe().catch(() => undefined);
  const summary = {
    url,
    data: config.dataDir,
    database: server.databaseLabel,
    ...(parts ? { model: parts.model, runtimes: parts.runtimes, sandbox: parts.sandbox.short, push: parts.push } : {}),
  };
  if (!isReadable(config)) {
    logger.info(summary, `mainloop ${config.version} is running at ${url}`);
    return;
  }
  const rows = Object.entries(summary)
    .filter(([key]) => key !== 'url')
    .map(([key, value]) => `    ${key.padEnd(9)}${value}`);
  process.stdout.write(`\n  mainloop ${config.version} is running at ${url}\n\n${rows.join('\n')}\n\n`);
}

class Lifecycle {
  private readonly aborter = new AbortController();
  private start: Promise<RunningServer> | undefined;
  private stopping: Promise<void> | undefined;

  constructor(private readonly logger: Logger) {}

  get signal(): AbortSignal {
    return this.aborter.signal;
  }

  handleSignalsAndCrashes(): void {
    // SIGHUP: the terminal it ran in was closed.
    for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
      process.on(signal, () => {
        this.logger.info({ signal }, 'shutting down');
        void this.stop(0);
      });
    }
    const crash = (error: unknown, kind: string) => {
      this.logger.fatal({ err: error }, `${kind}; shutting down`);
      void this.stop(1);
    };
    process.on('uncaughtException', (error) => crash(error, 'uncaught exception'));
    process.on('unhandledRejection', (reason) => crash(reason, 'unhandled promise rejection'));
  }

  /** The started server, or undefined when start-up was interrupted by a stop. */
  async starting(start: Promise<RunningServer>): Promise<RunningServer | undefined> {
    this.start = start;
    try {
      const server = await start;
      return this.stopping ? undefined : server;
    } catch (error) {
      if (this.stopping) return undefined; // start-up stopped on request, and cleaned up after itself
      throw error;
    }
  }

  /** Stops once: interrupts start-up or closes the running server, then exits with `code`. */
  private stop(code: number): Promise<void> {
    this.stopping ??= (async () => {
      const force = setTimeout(() => {
        this.logger.error('shutdown took too long; exiting');
        process.exit(code || 1);
      }, SHUTDOWN_TIMEOUT_MS);
      force.unref();
      this.aborter.abort();
      const server = await this.start?.catch(() => undefined);
      await server?.close();
      this.logger.info('stopped');
      process.exit(code);
    })();
    return this.stopping;
  }
}

main().catch((error: unknown) => {
  const reason = isStartupRefused(error)
    ? error.message // what to do, said plainly
    : error instanceof Error
      ? (error.stack ?? error.message)
      : String(error);
  process.stderr.write(`mainloop failed to start: ${reason}\n`);
  process.exit(1);
});
