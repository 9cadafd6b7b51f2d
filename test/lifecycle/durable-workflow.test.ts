import { DBOSClient } from '@dbos-inc/dbos-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/server/db/database.js';
import { DURABLE_SCHEMA, ExampleStepRepository, type CountInput } from '../../src/server/workflows/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { ChildNode, poll } from './helpers/processes.js';

/**
 * A workflow survives its process being killed: a child process starts the example workflow
 * (count to N, one durable step per number), is killed with SIGKILL partway, and a second
 * process on the same database finishes it, each step's effect happening exactly once.
 */
const WORKER = 'test/lifecycle/fixtures/durable-worker.ts';

let testDatabase: TestDatabase;
let database: Database;
let steps: ExampleStepRepository;
let dbos: DBOSClient | undefined;
const workers: ChildNode[] = [];

beforeAll(async () => {
  testDatabase = await createTestDatabase();
  database = openDatabase(testDatabase.url, { max: 2 });
  await database.pool.query(ExampleStepRepository.schema);
  steps = new ExampleStepRepository(database.db);
});

afterAll(async () => {
  for (const worker of workers) await worker.kill();
  await dbos?.destroy();
  await database?.close();
  await testDatabase?.drop();
});

function startWorker(workflowId: string, input?: CountInput): ChildNode {
  const worker = new ChildNode(WORKER, {
    env: {
      DATABASE_URL: testDatabase.url,
      WORKFLOW_ID: workflowId,
      ...(input ? { START_INPUT: JSON.stringify(input) } : {}),
    },
  });
  workers.push(worker);
  return worker;
}

/** DBOS's own record of the workflow, read from outside like an operator would. */
async function durableRecord(): Promise<DBOSClient> {
  dbos ??= await DBOSClient.create({
    systemDatabaseUrl: testDatabase.url,
    systemDatabaseSchemaName: DURABLE_SCHEMA,
    // no per-connection SET, which pg warns about (see durable.ts)
    systemDatabaseIdleTransactionTimeoutMs: 0,
  });
  return dbos;
}

async function checkpointedSteps(workflowId: string): Promise<string[]> {
  const recorded = (await (await durableRecord()).listWorkflowSteps(workflowId)) ?? [];
  return recorded.map((step) => step.name).filter((name) => name.startsWith('count-'));
}

async function finish(workflowId: string) {
  const second = startWorker(workflowId);
  const finished = await second.waitForLog((line) => line.event === 'finished', 60_000);
  expect(await second.waitForExit(15_000)).toEqual({ code: 0, signal: null });
  return finished;
}

describe('a durable workflow whose process is killed', () => {
  it('resumes after the last completed step, in a new process, and finishes', async () => {
    const workflowId = 'count-killed-between-steps';
    const first = startWorker(workflowId, { to: 4, pauseMs: 800 });
    // Step 2 is done and checkpointed: the workflow now sleeps before step 3.
    await poll('step 2 to be checkpointed', 60_000, async () => {
      first.assertRunning();
      return (await checkpointedSteps(workflowId)).includes('count-2') ? true : undefined;
    });
    await first.kill();

    expect((await (await durableRecord()).getWorkflow(workflowId))?.status).toBe('PENDING');
    expect((await steps.list(workflowId)).map((row) => row.step)).toEqual([1, 2]);

    const finished = await finish(workflowId);
    expect(finished.result).toEqual({ counted: 4 });
    expect((await (await durableRecord()).getWorkflow(workflowId))?.status).toBe('SUCCESS');
    // Steps 1 and 2 were not run again; 3 and 4 ran once, in the second process.
    expect(await steps.list(workflowId)).toEqual([
      { step: 1, runs: 1 },
      { step: 2, runs: 1 },
      { step: 3, runs: 1 },
      { step: 4, runs: 1 },
    ]);
    expect(await checkpointedSteps(workflowId)).toEqual(['count-1', 'count-2', 'count-3', 'count-4']);
  });

  it('runs a step again when killed after its effect but before its checkpoint, and the effect stays single', async () => {
    const workflowId = 'count-killed-inside-a-step';
    // Step 2 writes its effect, then holds for a while before DBOS can checkpoint it.
    const first = startWorker(workflowId, { to: 3, pauseMs: 100, hold: { step: 2, ms: 1_500 } });
    await poll('step 2 to write its effect', 60_000, async () => {
      first.assertRunning();
      return (await steps.list(workflowId)).some((row) => row.step === 2) ? true : undefined;
    });
    await first.kill();
    expect(await checkpointedSteps(workflowId)).toEqual(['count-1']);

    const finished = await finish(workflowId);
    expect(finished.result).toEqual({ counted: 3 });
    // Step 2 ran twice (at least once is all a step is promised); its effect exists once.
    expect(await steps.list(workflowId)).toEqual([
      { step: 1, runs: 1 },
      { step: 2, runs: 2 },
      { step: 3, runs: 1 },
    ]);
    expect(await checkpointedSteps(workflowId)).toEqual(['count-1', 'count-2', 'count-3']);
  });
});
