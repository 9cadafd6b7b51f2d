import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/support/database.js';
import { UserRepository } from '../auth/index.js';
import { openDatabase, type Database } from '../db/database.js';
import { EVENTS_CHANNEL, EventRepository } from './event.repository.js';

let testDatabase: TestDatabase;
let database: Database;
let listener: pg.Client;
const notices: unknown[] = [];
const events = new EventRepository();
const userId = 'owner-1';

beforeAll(async () => {
  testDatabase = await createTestDatabase();
  database = openDatabase(testDatabase.url);
  await new UserRepository().insert(database.db, { id: userId, username: 'ada', isOwner: true });
  listener = new pg.Client({ connectionString: testDatabase.url });
  await listener.connect();
  listener.on('notification', (message) => notices.push(JSON.parse(message.payload!)));
  await listener.query(`LISTEN ${EVENTS_CHANNEL}`);
});
afterAll(async () => {
  await listener?.end();
  await database?.close();
  await testDatabase?.drop();
});

const counts = (needsYou: number) => ({ counts: { needsYou, active: 0, failures: 0 } });

describe('EventRepository.publish', () => {
  it('stores a batch with consecutive ids and notifies each event, in id order, carrying it whole', async () => {
    notices.length = 0;
    const [first] = await events.publish(database.db, userId, [{ type: 'inbox.updated', data: counts(0) }]);
    const batch = await events.publish(
      database.db,
      userId,
      Array.from({ length: 12 }, (_, index) => ({ type: 'inbox.updated' as const, data: counts(index + 1) })),
    );
    const ids = batch.map((event) => Number(event.id));
    expect(ids).toEqual(Array.from({ length: 12 }, (_, index) => Number(first!.id) + 1 + index));
    expect(batch.map((event) => event.data)).toEqual(Array.from({ length: 12 }, (_, index) => counts(index + 1)));

    await vi.waitFor(() => expect(notices).toHaveLength(13));
    expect(notices.slice(1)).toEqual(
      batch.map((event) => ({ id: event.id, userId, type: 'inbox.updated', data: event.data })),
    );
    const stored = await events.listAfter(database.db, userId, first!.id, 100);
    expect(stored.map((event) => [event.id, event.data])).toEqual(batch.map((event) => [event.id, event.data]));
  });

  it('notifies an event too large for NOTIFY by reference, between inline ones', async () => {
    notices.length = 0;
    const wide = { settings: { theme: 'nord' as const, timeZone: '€'.repeat(3000) } };
    const batch = await events.publish(database.db, userId, [
      { type: 'inbox.updated', data: counts(1) },
      { type: 'settings.updated', data: wide as never },
      { type: 'inbox.updated', data: counts(2) },
    ]);
    await vi.waitFor(() => expect(notices).toHaveLength(3));
    expect(notices).toEqual([
      { id: batch[0]!.id, userId, type: 'inbox.updated', data: counts(1) },
      { id: batch[1]!.id, userId, type: 'settings.updated', large: true },
      { id: batch[2]!.id, userId, type: 'inbox.updated', data: counts(2) },
    ]);
    const [stored] = await events.listAfter(database.db, userId, batch[0]!.id, 1);
    expect(stored!.data).toEqual(wide);
  });
});

describe('EventRepository.append (in a transaction)', () => {
  it('numbers the events when the transaction commits: in commit order, consecutive, each notified', async () => {
    notices.length = 0;
    const before = Number(await events.lastId(database.db, userId));
    let releaseFirst!: () => void;
    const firstMayCommit = new Promise<void>((resolve) => (releaseFirst = resolve));
    let firstAppended!: () => void;
    const appended = new Promise<void>((resolve) => (firstAppended = resolve));
    // The first transaction appends first and commits last; the second does not wait for it.
    const first = database.db.transaction().execute(async (trx) => {
      await events.append(trx, userId, [
        { type: 'inbox.updated', data: counts(1) },
        { type: 'inbox.updated', data: counts(2) },
      ]);
      firstAppended();
      await firstMayCommit;
    });
    await appended;
    await database.db
      .transaction()
      .execute((trx) => events.append(trx, userId, [{ type: 'inbox.updated', data: counts(3) }]));
    releaseFirst();
    await first;

    const stored = await events.listAfter(database.db, userId, String(before), 10);
    expect(stored.map((event) => [Number(event.id), event.data])).toEqual([
      [before + 1, counts(3)],
      [before + 2, counts(1)],
      [before + 3, counts(2)],
    ]);
    await vi.waitFor(() => expect(notices).toHaveLength(3));
    expect(notices).toEqual(stored.map((event) => ({ id: event.id, userId, type: 'inbox.updated', data: event.data })));
  });

  it('stores and notifies nothing when the transaction rolls back', async () => {
    notices.length = 0;
    const before = await events.lastId(database.db, userId);
    await expect(
      database.db.transaction().execute(async (trx) => {
        await events.append(trx, userId, [{ type: 'inbox.updated', data: counts(1) }]);
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    const [after] = await events.publish(database.db, userId, [{ type: 'inbox.updated', data: counts(2) }]);
    expect(Number(after!.id)).toBe(Number(before) + 1);
    await vi.waitFor(() => expect(notices).toHaveLength(1));
    expect(notices[0]).toMatchObject({ id: after!.id });
    expect(
      await database.db
        .selectFrom('event_outbox' as never)
        .selectAll()
        .execute(),
    ).toEqual([]);
  });
});
