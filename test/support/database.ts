import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { withDatabaseName } from '../../src/server/db/database.js';

export const TEMPLATE_DATABASE = 'mainloop_template';

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A fresh, migrated database cloned from the template: one per test file (or per test). */
export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = inject('postgresAdminUrl');
  const name = `test_${randomBytes(6).toString('hex')}`;
  await withAdmin(adminUrl, (admin) => admin.query(`create database "${name}" template "${TEMPLATE_DATABASE}"`));
  return {
    url: withDatabaseName(adminUrl, name),
    name,
    drop: () =>
      withAdmin(adminUrl, (admin) => admin.query(`drop database if exists "${name}" with (force)`)).then(() => {}),
  };
}

/** One statement as the test cluster's superuser (creating or dropping a database, ending a session). */
export async function adminQuery(sql: string): Promise<void> {
  await withAdmin(inject('postgresAdminUrl'), (admin) => admin.query(sql));
}

async function withAdmin<T>(adminUrl: string, action: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    // Cloning a template fails while anyone is connected to it; retry briefly.
    for (let attempt = 0; ; attempt++) {
      try {
        return await action(client);
      } catch (error) {
        if ((error as { code?: string }).code !== '55006' || attempt > 50) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  } finally {
    await client.end();
  }
}
