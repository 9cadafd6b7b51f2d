import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import { loadConfig, type Config } from '../../src/server/config/index.js';
import { startServer, type RunningServer } from '../../src/server/server.js';
import { PasswordHasher, UserRepository, type SetupLinkPrinter } from '../../src/server/auth/index.js';
import type { TaskRunner } from '../../src/server/tasks/index.js';
import type { AgentRuntime } from '../../src/server/workers/index.js';
import { createTestDatabase, type TestDatabase } from './database.js';

export const TEST_API_TOKEN = 'test-owner-token-0123456789abcdef';

export interface TestServer extends RunningServer {
  /** the owner's bearer token (MAINLOOP_API_TOKEN) */
  token: string;
  /** headers that authenticate as the owner */
  authHeaders: { authorization: string };
  testDatabase: TestDatabase;
  dataDir: string;
  /** the one-time set-up token offered at start (the owner has no password yet) */
  setupToken: string | undefined;
  /** the set-up link exactly as it was printed */
  setupLink: string | undefined;
}

/**
 * A real mainloop (Fastify, Postgres, DBOS, services) in this process, on an ephemeral port,
 * on a fresh database. One per test file: DBOS is a process-wide singleton.
 */
export async function startTestServer(
  options: {
    config?: Partial<Config>;
    env?: Record<string, string>;
    webRoot?: string | false;
    /** default: captured into `setupLink`/`setupToken`, not printed */
    setupLinkPrinter?: Pick<SetupLinkPrinter, 'print'>;
    /** the agent runtimes; default: the built-in ones */
    runtimes?: AgentRuntime[];
    /** what runs a created task; default: the task workflow */
    taskRunner?: TaskRunner;
    /** where bubblewrap is (null: as if it were not installed); default: `bwrap` on PATH */
    bubblewrap?: string | null;
    /** where the server logs; default: pino at TEST_LOG_LEVEL, or silent */
    logger?: Logger;
  } = {},
): Promise<TestServer> {
  const testDatabase = await createTestDatabase();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mainloop-test-data-'));
  const config = loadConfig(
    {
      MAINLOOP_API_TOKEN: TEST_API_TOKEN,
      // Never the developer's own Claude Code sign-in: `auto` must see only what the test sets.
      CLAUDE_CONFIG_DIR: path.join(dataDir, 'no-claude-sign-in'),
      ...options.env,
      DATABASE_URL: testDatabase.url,
      MAINLOOP_DATA_DIR: dataDir,
      PORT: '0',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    },
    options.config,
  );
  const logger = options.logger ?? pino({ level: config.logLevel });
  let setupLink: string | undefined;
  const server = await startServer({
    config,
    logger,
    webRoot: options.webRoot ?? false,
    services: {
      ...(options.runtimes ? { runtimes: options.runtimes } : {}),
      ...(options.taskRunner ? { taskRunner: options.taskRunner } : {}),
      ...(options.bubblewrap !== undefined ? { bubblewrap: options.bubblewrap } : {}),
    },
    setupLinkPrinter: {
      print(link, expiresAt) {
        setupLink = link;
        options.setupLinkPrinter?.print(link, expiresAt);
      },
    },
  });
  const close = server.close;
  return {
    ...server,
    token: config.apiToken ?? '',
    authHeaders: { authorization: `Bearer ${config.apiToken ?? ''}` },
    testDatabase,
    dataDir,
    setupLink,
    setupToken: setupLink ? (new URL(setupLink).searchParams.get('token') ?? undefined) : undefined,
    async close() {
      await close();
      await testDatabase.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Gives the owner a username and password, as set-up would, for tests that sign in with them. */
export async function setOwnerCredentials(
  server: TestServer,
  credentials: { username: string; password: string },
): Promise<void> {
  const users = new UserRepository();
  const owner = await users.findOwner(server.database.db);
  if (!owner) throw new Error('the test server has no owner');
  const hash = await new PasswordHasher().hash(credentials.password);
  await users.setCredentials(server.database.db, owner.id, credentials.username, hash);
}
