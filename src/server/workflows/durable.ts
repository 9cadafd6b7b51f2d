import { DBOS } from '@dbos-inc/dbos-sdk';
import type { Logger } from 'pino';

export interface DurableRuntime {
  shutdown(): Promise<void>;
}

/**
 * DBOS on mainloop's own Postgres, in its own schema (`dbos`), so one database (embedded or
 * DATABASE_URL) holds everything. Workflows must be registered (module import) before launch;
 * queues are registered after it.
 */
export async function launchDurableRuntime(options: { databaseUrl: string; logger: Logger }): Promise<DurableRuntime> {
  DBOS.setConfig({
    name: 'mainloop',
    systemDatabaseUrl: options.databaseUrl,
    systemDatabaseSchemaName: 'dbos',
    logLevel: options.logger.level === 'debug' || options.logger.level === 'trace' ? 'debug' : 'warn',
    runAdminServer: false,
  });
  await DBOS.launch();
  return {
    async shutdown() {
      await DBOS.shutdown();
    },
  };
}
