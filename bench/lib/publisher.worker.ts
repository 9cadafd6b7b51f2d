import { parentPort } from 'node:worker_threads';
import pg from 'pg';
import type { EventData } from '../../src/contract/events.js';
import { openDatabase, type Database } from '../../src/server/db/database.js';
import { EventRepository, EventService } from '../../src/server/events/index.js';
import { SystemClock } from '../../src/server/lib/clock.js';
import { now, serveCommands } from './threads.js';

/**
 * The writer, in a thread of its own: it commits events through the real EventService (and,
 * for the floor, bare NOTIFYs) and reports the moment each commit was acknowledged.
 */
const port = parentPort!;
let database: Database | undefined;
let events: EventService | undefined;
let bare: pg.Client | undefined;
let userId = '';

serveCommands(port, {
  async init(options: { databaseUrl: string; userId: string }) {
    database = openDatabase(options.databaseUrl, { max: 2 });
    events = new EventService({
      db: database.db,
      repository: new EventRepository(),
      clock: new SystemClock(),
      retentionDays: 30,
    });
    bare = new pg.Client({ connectionString: options.databaseUrl });
    await bare.connect();
    userId = options.userId;
  },
  /** One event in its own transaction; `committedAt` is when COMMIT was acknowledged. */
  async publish(data: EventData<'inbox.updated'>) {
    const event = await events!.publish(userId, 'inbox.updated', data);
    return { id: Number(event.id), committedAt: now(), notice: JSON.stringify(event).length };
  },
  /** A bare NOTIFY (autocommit); `committedAt` as above. */
  async notify({ channel, payload }: { channel: string; payload: string }) {
    await bare!.query('select pg_notify($1, $2)', [channel, payload]);
    return { committedAt: now() };
  },
  async close() {
    await bare?.end();
    await database?.close();
  },
});
