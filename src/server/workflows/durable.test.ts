import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dbRetryConfig } from '@dbos-inc/dbos-sdk/internal/utils';
import { describe, expect, it, vi } from 'vitest';
import { createTestDatabase } from '../../../test/support/database.js';
import { captureLogs } from '../../../test/support/logs.js';
import { launchDurableRuntime, PinoDbosLogger } from './durable.js';

describe('the durable runtime', () => {
  it("writes DBOS's log lines through our logger, none to the console", async () => {
    const console_ = ['log', 'info', 'warn', 'error', 'debug'].map((method) =>
      vi.spyOn(console, method as 'log').mockImplementation(() => {}),
    );
    const testDatabase = await createTestDatabase();
    const { lines, logger } = captureLogs('debug');
    try {
      const runtime = await launchDurableRuntime({ databaseUrl: testDatabase.url, logger, applicationVersion: 'test' });
      await runtime.shutdown();
      expect(lines.some((line) => line.component === 'dbos')).toBe(true);
      for (const spy of console_) expect(spy).not.toHaveBeenCalled();
    } finally {
      for (const spy of console_) spy.mockRestore();
      await testDatabase.drop();
    }
  });
});

describe('DBOS with its database gone', () => {
  it('logs each kind of warning from its loops once, not at every turn', () => {
    const { lines, logger } = captureLogs('debug');
    const dbos = new PinoDbosLogger(logger);
    // What DBOS 5.3 says, four times a second per loop, while its database is down.
    for (let turn = 0; turn < 40; turn++) {
      dbos.warn(`Error listing database-backed queues: connect ECONNREFUSED 127.0.0.1:${40_000 + turn}`);
      dbos.warn('Error transitioning delayed workflows: the database system is starting up');
      dbos.warn(`Database connection failed: read ECONNRESET. Retrying in ${turn}.5s (attempt ${turn})`);
    }
    const warnings = lines.filter((line) => line.level === 40).map((line) => line.msg);
    expect(warnings).toEqual([
      'Error listing database-backed queues: connect ECONNREFUSED 127.0.0.1:40000',
      'Error transitioning delayed workflows: the database system is starting up',
      'Database connection failed: read ECONNRESET. Retrying in 0.5s (attempt 0)',
    ]);
    expect(lines.filter((line) => line.level === 20)).toHaveLength(117); // the rest, at debug level
  });

  it('still waits between its retries as long as dbRetryConfig.maxBackoffSec says (durable.ts caps it)', () => {
    // The cap is a setting of DBOS's own module, read at each retry: this fails when DBOS stops reading it.
    expect(typeof dbRetryConfig.maxBackoffSec).toBe('number');
    const require = createRequire(import.meta.url);
    const systemDatabase = readFileSync(require.resolve('@dbos-inc/dbos-sdk/internal/system_database'), 'utf8');
    expect(systemDatabase).toContain('dbRetryConfig.maxBackoffSec');
  });
});
