import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/support/database.js';
import { UserRepository } from '../auth/index.js';
import { openDatabase, type Database, type Queryable } from '../db/database.js';
import { EventRepository, EventService } from '../events/index.js';
import { SettingsRepository } from './settings.repository.js';
import { SETTINGS_CACHE_MS, SettingsService, withDefaults } from './settings.service.js';

const noNotifications = { quietHours: null, notifications: { webhookSecretSet: false } };

describe('withDefaults', () => {
  it('gives the defaults to someone who never changed anything', () => {
    expect(withDefaults(undefined)).toEqual({ theme: 'eighties', timeZone: 'UTC', ...noNotifications });
  });

  it('keeps what was stored, and shows of the webhook secret only that it is set', () => {
    expect(
      withDefaults({
        theme: 'nord',
        timeZone: 'Europe/Berlin',
        quietHours: { start: '22:00', end: '07:00' },
        notifications: { ntfyUrl: 'https://ntfy.sh/t', webhookUrl: null, webhookSecret: 'secret-123' },
      }),
    ).toEqual({
      theme: 'nord',
      timeZone: 'Europe/Berlin',
      quietHours: { start: '22:00', end: '07:00' },
      notifications: { ntfyUrl: 'https://ntfy.sh/t', webhookSecretSet: true },
    });
  });

  it('falls back per key when a stored value is no longer valid, and drops keys it does not know', () => {
    expect(
      withDefaults({ theme: 'a-removed-theme', timeZone: 'Asia/Tokyo', quietHours: { start: '9' }, retired: true }),
    ).toEqual({
      theme: 'eighties',
      timeZone: 'Asia/Tokyo',
      ...noNotifications,
    });
  });
});

class FakeClock {
  private time = new Date('2026-03-01T12:00:00Z').getTime();
  now(): Date {
    return new Date(this.time);
  }
  advance(ms: number): void {
    this.time += ms;
  }
}

/** The real repository, counting reads; a read can be held after it has its row. */
class ObservedRepository extends SettingsRepository {
  reads = 0;
  afterRead: (() => Promise<void>) | undefined;
  override async find(db: Queryable, userId: string) {
    this.reads++;
    const found = await super.find(db, userId);
    await this.afterRead?.();
    return found;
  }
}

describe('SettingsService', () => {
  let testDatabase: TestDatabase;
  let database: Database;
  let clock: FakeClock;
  let repository: ObservedRepository;
  let service: SettingsService;
  const newService = (settings: SettingsRepository = new SettingsRepository()) =>
    new SettingsService({
      db: database.db,
      settings,
      events: new EventService({ db: database.db, repository: new EventRepository(), clock, retentionDays: 30 }),
      clock,
    });

  beforeAll(async () => {
    testDatabase = await createTestDatabase();
    database = openDatabase(testDatabase.url);
    await new UserRepository().insert(database.db, { id: 'user-1', username: 'ada', isOwner: true });
  });
  afterAll(async () => {
    await database?.close();
    await testDatabase?.drop();
  });
  beforeEach(async () => {
    await database.db.deleteFrom('user_settings').execute();
    clock = new FakeClock();
    repository = new ObservedRepository();
    service = newService(repository);
  });

  it('answers repeated reads from memory for a moment, then reads the database again', async () => {
    expect(await service.get('user-1')).toEqual({ theme: 'eighties', timeZone: 'UTC', ...noNotifications });
    await service.get('user-1');
    expect(repository.reads).toBe(1);
    clock.advance(SETTINGS_CACHE_MS);
    await service.get('user-1');
    expect(repository.reads).toBe(2);
  });

  it('makes requests that arrive together share one read', async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, () => service.get('user-1')));
    expect(new Set(answers.map((answer) => answer.theme))).toEqual(new Set(['eighties']));
    expect(repository.reads).toBe(1);
  });

  it('does not keep a read that failed', async () => {
    repository.afterRead = async () => {
      throw new Error('connection lost');
    };
    await expect(service.get('user-1')).rejects.toThrow('connection lost');
    repository.afterRead = undefined;
    expect(await service.get('user-1')).toEqual({ theme: 'eighties', timeZone: 'UTC', ...noNotifications });
    expect(repository.reads).toBe(2);
  });

  it('shows a change made through it at once', async () => {
    await service.get('user-1');
    expect(await service.update('user-1', { theme: 'nord' })).toEqual({
      theme: 'nord',
      timeZone: 'UTC',
      ...noNotifications,
    });
    expect(await service.get('user-1')).toEqual({ theme: 'nord', timeZone: 'UTC', ...noNotifications });
  });

  it('shows a change made through another instance on the same database within SETTINGS_CACHE_MS', async () => {
    await service.get('user-1');
    await newService().update('user-1', { timeZone: 'Asia/Tokyo' });
    clock.advance(SETTINGS_CACHE_MS);
    expect(await service.get('user-1')).toEqual({ theme: 'eighties', timeZone: 'Asia/Tokyo', ...noNotifications });
  });

  it('does not keep what a read found when a change committed while that read was under way', async () => {
    let read!: () => void;
    let release!: () => void;
    const hasRead = new Promise<void>((resolve) => (read = resolve));
    repository.afterRead = () => {
      read();
      return new Promise((resolve) => (release = resolve));
    };
    const during = service.get('user-1');
    await hasRead; // it has the defaults and is held before it returns them
    repository.afterRead = undefined;
    await service.update('user-1', { theme: 'dracula' });
    release();
    expect((await during).theme).toBe('eighties');
    expect((await service.get('user-1')).theme).toBe('dracula');
  });
});
