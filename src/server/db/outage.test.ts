import { describe, expect, it } from 'vitest';
import { databaseOutage } from './outage.js';

/** An error as pg reports one from Postgres: a SQLSTATE in `code`. */
const postgresError = (code: string, message: string) => Object.assign(new Error(message), { code });
/** An error as Node reports a failed socket. */
const socketError = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code });

describe('databaseOutage', () => {
  it.each([
    ['a refused connection', socketError('ECONNREFUSED'), 'unreachable'],
    ['a reset connection', socketError('ECONNRESET'), 'unreachable'],
    ['a connection lost under a query', new Error('Connection terminated unexpectedly'), 'unreachable'],
    ['pg-pool’s connect timeout', new Error('timeout exceeded when trying to connect'), 'timeout'],
    ['pg’s own query timeout', new Error('Query read timeout'), 'timeout'],
    [
      'Postgres shutting down (57P01)',
      postgresError('57P01', 'terminating connection due to administrator command'),
      'unreachable',
    ],
    ['Postgres starting up (57P03)', postgresError('57P03', 'the database system is starting up'), 'unreachable'],
    ['a connection exception (08006)', postgresError('08006', 'connection failure'), 'unreachable'],
    ['a statement timeout (57014)', postgresError('57014', 'canceling statement due to statement timeout'), 'timeout'],
    [
      'a full disk (53100)',
      postgresError('53100', 'could not extend file "base/5/16384": No space left on device'),
      'disk_full',
    ],
    ['too many connections (53300)', postgresError('53300', 'sorry, too many clients already'), 'overloaded'],
  ])('reports %s', (_what, error, kind) => {
    const outage = databaseOutage(error);
    expect(outage?.kind).toBe(kind);
    expect(outage?.message).toMatch(/database/);
    expect(outage?.retryAfterSeconds).toBeGreaterThan(0);
  });

  it('finds the outage an error wraps, in its cause or an AggregateError (one refusal per address)', () => {
    expect(databaseOutage(new Error('could not connect', { cause: socketError('ECONNREFUSED') }))?.kind).toBe(
      'unreachable',
    );
    expect(databaseOutage(new AggregateError([socketError('ECONNREFUSED'), socketError('ECONNREFUSED')]))?.kind).toBe(
      'unreachable',
    );
  });

  it('reports none for what is no outage: a refused statement, a bug, a non-error', () => {
    expect(databaseOutage(postgresError('23505', 'duplicate key value violates unique constraint'))).toBeUndefined();
    expect(databaseOutage(postgresError('42P01', 'relation "nope" does not exist'))).toBeUndefined();
    expect(databaseOutage(new TypeError('cannot read properties of undefined'))).toBeUndefined();
    expect(databaseOutage('Connection terminated unexpectedly')).toBeUndefined();
    expect(databaseOutage(undefined)).toBeUndefined();
  });
});
