import { DBOS, type WorkflowHandle } from '@dbos-inc/dbos-sdk';
import { sql } from 'kysely';
import type { Queryable } from '../db/database.js';

/**
 * The example workflow: count to N, one durable step per number, with a durable sleep between
 * them. It shows the shape every mainloop workflow follows, and the lifecycle tests kill a process
 * running it to prove that a workflow resumes where it stopped:
 * - the workflow is thin: each step calls one plain method;
 * - each step is idempotent: its effect is keyed (workflow id, step), so running it again (a crash
 *   after the effect but before DBOS checkpointed the step) changes nothing but a run counter;
 * - the wait between steps is `DBOS.sleep`, which a restart resumes with only the time left.
 */
export interface CountInput {
  /** how many steps */
  to: number;
  /** the durable pause between two steps */
  pauseMs: number;
  /** Test hook: step `hold.step` waits `hold.ms` after its effect, before DBOS checkpoints it. */
  hold?: { step: number; ms: number };
}

export interface CountResult {
  counted: number;
}

export interface ExampleWorkflow {
  /** Starts counting under `workflowId`; starting an id that exists returns the same workflow. */
  start(workflowId: string, input: CountInput): Promise<WorkflowHandle<CountResult>>;
  /** Waits for the workflow to finish (wherever it runs: here, or recovered after a restart). */
  result(workflowId: string): Promise<CountResult>;
}

/** Which steps of which example workflow ran, and how many times each did. */
export class ExampleStepRepository {
  /** The table's definition: the example is not part of the product schema, so whoever runs it creates it. */
  static readonly schema = /* sql */ `
    create table if not exists example_workflow_steps (
      workflow_id text not null,
      step integer not null,
      runs integer not null default 1,
      first_run_at timestamptz not null default now(),
      primary key (workflow_id, step)
    )`;

  constructor(private readonly db: Queryable) {}

  /** The step's effect: one row per (workflow, step), whatever happens; `runs` counts executions. */
  async record(workflowId: string, step: number): Promise<void> {
    await sql`
      insert into example_workflow_steps (workflow_id, step) values (${workflowId}, ${step})
      on conflict (workflow_id, step) do update set runs = example_workflow_steps.runs + 1`.execute(this.db);
  }

  async list(workflowId: string): Promise<Array<{ step: number; runs: number }>> {
    const { rows } = await sql<{ step: number; runs: number }>`
      select step, runs from example_workflow_steps where workflow_id = ${workflowId} order by step`.execute(this.db);
    return rows;
  }
}

/** Registers the workflow with DBOS; call once per process, before `launchDurableRuntime`. */
export function registerExampleWorkflow(deps: { steps: ExampleStepRepository }): ExampleWorkflow {
  const countTo = DBOS.registerWorkflow(
    async (input: CountInput): Promise<CountResult> => {
      const workflowId = DBOS.workflowID!;
      for (let step = 1; step <= input.to; step++) {
        await DBOS.runStep(
          async () => {
            await deps.steps.record(workflowId, step);
            if (input.hold?.step === step) await delay(input.hold.ms);
          },
          { name: `count-${step}` },
        );
        if (step < input.to) await DBOS.sleep(input.pauseMs);
      }
      return { counted: input.to };
    },
    { name: 'example.countTo' },
  );
  return {
    start: (workflowId, input) => DBOS.startWorkflow(countTo, { workflowID: workflowId })(input),
    result: (workflowId) => DBOS.retrieveWorkflow<CountResult>(workflowId).getResult(),
  };
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
