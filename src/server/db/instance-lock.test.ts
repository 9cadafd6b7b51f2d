import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { adminQuery } from '../../../test/support/database.js';
import { withDatabaseName } from './database.js';
import { takeInstanceLock } from './instance-lock.js';

const adminUrl = inject('postgresAdminUrl');
const name = `test_instance_lock_${randomBytes(6).toString('hex')}`;
const databaseUrl = withDatabaseName(adminUrl, name);
const logger = pino({ level: 'silent' });

beforeAll(async () => {
  await adminQuery(`create database "${name}"`);
});

afterAll(async () => {
  await adminQuery(`drop database if exists "${name}" with (force)`);
});

describe('takeInstanceLock', () => {
  it('lets one live server hold an executor id; another id is free; a release frees it', async () => {
    const first = await takeInstanceLock({ databaseUrl, executorId: 'local', logger });
    await expect(
      takeInstanceLock({ databaseUrl, executorId: 'local', logger, waitMs: 300, retryMs: 100 }),
    ).rejects.toThrow(/another mainloop is running on this database as executor "local".*MAINLOOP_EXECUTOR_ID/);
    // Ctrl-C while waiting ends the wait at once.
    const aborter = new AbortController();
    const waiting = takeInstanceLock({ databaseUrl, executorId: 'local', logger, signal: aborter.signal });
    setTimeout(() => aborter.abort(), 100);
    await expect(waiting).rejects.toThrow('start-up was interrupted');
    const other = await takeInstanceLock({ databaseUrl, executorId: 'mainloop-2', logger, waitMs: 0 });
    await first.release();
    const again = await takeInstanceLock({ databaseUrl, executorId: 'local', logger, waitMs: 0 });
    await Promise.all([other.release(), again.release()]);
  });

  it('is taken by a waiting start as soon as the holder’s connection is gone, and taken back once free', async () => {
    const holder = await takeInstanceLock({ databaseUrl, executorId: 'crashing', logger });
    const waiting = takeInstanceLock({ databaseUrl, executorId: 'crashing', logger, waitMs: 10_000, retryMs: 50 });
    // The holder's process dies: its session ends and Postgres drops its locks.
    await adminQuery(
      `select pg_terminate_backend(pid) from pg_stat_activity where datname = '${name}' and application_name = 'mainloop-instance' and pid in (select pid from pg_locks where locktype = 'advisory')`,
    );
    const taken = await waiting;
    await taken.release();
    // The first holder, its connection gone, takes its id again as soon as it is free.
    const probe = async () => {
      try {
        await (await takeInstanceLock({ databaseUrl, executorId: 'crashing', logger, waitMs: 0 })).release();
        return 'free';
      } catch {
        return 'held';
      }
    };
    await expect.poll(probe, { timeout: 10_000, interval: 300 }).toBe('held');
    await holder.release();
    expect(await probe()).toBe('free');
  });
});
