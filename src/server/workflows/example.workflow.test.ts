import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/support/database.js';
import { openDatabase, type Database } from '../db/database.js';
import { launchDurableRuntime, type DurableRuntime } from './durable.js';
import { ExampleStepRepository, registerExampleWorkflow, type ExampleWorkflow } from './example.workflow.js';

// One process, one DBOS: this file launches it once. Killing the process mid-workflow is
// test/lifecycle/durable-workflow.test.ts.
let testDatabase: TestDatabase;
let database: Database;
let runtime: DurableRuntime;
let example: ExampleWorkflow;
let steps: ExampleStepRepository;
const logLines: Array<Record<string, unknown>> = [];
const console_ = ['log', 'info', 'warn', 'error', 'debug'].map((method) =>
  vi.spyOn(console, method as 'log').mockImplementation(() => {}),
);

beforeAll(async () => {
  testDatabase = await createTestDatabase();
  database = openDatabase(testDatabase.url, { max: 4 });
  await database.pool.query(ExampleStepRepository.schema);
  steps = new ExampleStepRepository(database.db);
  example = registerExampleWorkflow({ steps });
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean))
        logLines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  runtime = await launchDurableRuntime({
    databaseUrl: testDatabase.url,
    logger: pino({ level: 'debug' }, sink),
    applicationVersion: 'test',
  });
});

afterAll(async () => {
  await runtime?.shutdown();
  await database?.close();
  await testDatabase?.drop();
});

describe('the example workflow', () => {
  it('runs every step once and returns its result', async () => {
    await example.start('count-once', { to: 3, pauseMs: 5 });
    expect(await example.result('count-once')).toEqual({ counted: 3 });
    expect(await steps.list('count-once')).toEqual([
      { step: 1, runs: 1 },
      { step: 2, runs: 1 },
      { step: 3, runs: 1 },
    ]);
  });

  it('is started once per workflow id: starting it again returns the same run', async () => {
    const handle = await example.start('count-once', { to: 3, pauseMs: 5 });
    expect(await handle.getResult()).toEqual({ counted: 3 });
    expect((await steps.list('count-once')).every((row) => row.runs === 1)).toBe(true);
  });

  it("writes DBOS's log lines through our logger, none to the console", () => {
    expect(logLines.some((line) => line.component === 'dbos')).toBe(true);
    for (const spy of console_) expect(spy).not.toHaveBeenCalled();
  });
});
