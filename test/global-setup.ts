import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import pino from 'pino';
import type { TestProject } from 'vitest/node';
import { EmbeddedPostgres } from '../src/server/db/embedded-postgres.js';
import { migrate } from '../src/server/db/migrate.js';
import { TEMPLATE_DATABASE } from './support/database.js';

/**
 * One embedded Postgres for the whole run, with a migrated template database. Each test file
 * clones its own database from the template (test/support/database.ts), so files never share state.
 */
export default async function setup(project: TestProject) {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mainloop-test-pg-'));
  const postgres = new EmbeddedPostgres({ dataDir, logger: pino({ level: 'warn' }) });
  const url = await postgres.start();
  const adminUrl = url.replace(/\/mainloop$/, '/postgres');

  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database "${TEMPLATE_DATABASE}"`);
  await admin.end();
  const pool = new pg.Pool({ connectionString: url.replace(/\/mainloop$/, `/${TEMPLATE_DATABASE}`) });
  await migrate(pool);
  await pool.end();

  project.provide('postgresAdminUrl', adminUrl);
  return async () => {
    await postgres.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    postgresAdminUrl: string;
  }
}
