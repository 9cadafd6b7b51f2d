import type { Logger } from 'pino';
import { ApiTokenRepository, AuthService, UserRepository } from './auth/index.js';
import type { Config } from './config/index.js';
import type { Database } from './db/database.js';
import type { RoutePlugin } from './http/app.js';
import { SystemClock, type Clock } from './lib/clock.js';
import { IdGenerator, type Ids } from './lib/ids.js';

export interface Services {
  auth: AuthService;
  /** every feature's HTTP routes, mounted under /api */
  routes: RoutePlugin[];
  /** runs once the server listens: owner bootstrap, the set-up link */
  afterListen(info: { url: string }): Promise<void>;
  stop(): Promise<void>;
}

/** Builds every service with its dependencies, explicitly: no locator, no globals. */
export async function createServices(options: {
  config: Config;
  logger: Logger;
  database: Database;
  clock?: Clock;
  ids?: Ids;
}): Promise<Services> {
  const { config, logger, database } = options;
  const clock = options.clock ?? new SystemClock();
  const ids = options.ids ?? new IdGenerator();
  const db = database.db;

  const users = new UserRepository();
  const tokens = new ApiTokenRepository();
  const auth = new AuthService({ db, users, tokens, clock, ids, logger });

  return {
    auth,
    routes: [],
    async afterListen() {
      await auth.bootstrap({ apiToken: config.apiToken });
    },
    async stop() {},
  };
}
