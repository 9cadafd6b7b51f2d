import type { Logger } from 'pino';
import {
  ApiTokenRepository,
  ApiTokenService,
  apiTokenRoutes,
  AuthService,
  authRoutes,
  PasswordHasher,
  SessionRepository,
  SetupLinkPrinter,
  SetupService,
  SetupTokenRepository,
  UserRepository,
} from './auth/index.js';
import type { Config } from './config/index.js';
import type { Database } from './db/database.js';
import { EventHub, EventRepository, EventRetention, EventService, eventRoutes } from './events/index.js';
import type { RoutePlugin } from './http/app.js';
import { SystemClock, type Clock } from './lib/clock.js';
import { IdGenerator, type Ids } from './lib/ids.js';
import { SettingsRepository, SettingsService, settingsRoutes } from './settings/index.js';

export interface Services {
  auth: AuthService;
  setup: SetupService;
  apiTokens: ApiTokenService;
  settings: SettingsService;
  /** publish events here (in your transaction with `append`, or alone with `publish`) */
  events: EventService;
  /** this instance's live delivery to SSE clients */
  eventHub: EventHub;
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
  /** where the one-time set-up link is shown; default: stdout */
  setupLinkPrinter?: Pick<SetupLinkPrinter, 'print'>;
}): Promise<Services> {
  const { config, logger, database } = options;
  const clock = options.clock ?? new SystemClock();
  const ids = options.ids ?? new IdGenerator();
  const db = database.db;

  const events = new EventService({ db, repository: new EventRepository(), clock, retentionDays: config.eventRetentionDays });
  const eventHub = new EventHub({ databaseUrl: database.url, events, logger });
  await eventHub.start();
  const eventRetention = new EventRetention({ events, logger });
  eventRetention.start();

  const users = new UserRepository();
  const tokens = new ApiTokenRepository();
  const passwords = new PasswordHasher();
  const auth = new AuthService({ db, users, tokens, sessions: new SessionRepository(), passwords, clock, ids, logger, publicUrl: config.publicUrl });
  const setup = new SetupService({
    db, users, setupTokens: new SetupTokenRepository(), passwords, auth, clock, ids, logger,
    printer: options.setupLinkPrinter ?? new SetupLinkPrinter(),
  });
  const apiTokens = new ApiTokenService({ db, tokens, auth, clock, ids });
  const settings = new SettingsService({ db, settings: new SettingsRepository(), events, clock });

  return {
    auth,
    setup,
    apiTokens,
    settings,
    events,
    eventHub,
    routes: [authRoutes({ auth, setup }), apiTokenRoutes(apiTokens), settingsRoutes(settings), eventRoutes(eventHub)],
    async afterListen({ url }) {
      const { ownerId } = await auth.bootstrap({ apiToken: config.apiToken });
      await setup.offerSetupLink({ baseUrl: url, ownerId });
    },
    async stop() {
      await eventRetention.stop();
      await eventHub.stop();
    },
  };
}
