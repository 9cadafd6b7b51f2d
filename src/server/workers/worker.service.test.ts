import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Task } from '../../contract/tasks.js';
import { captureLogs } from '../../../test/support/logs.js';
import type { TaskWorkflow } from './task.workflow.js';
import { WorkerService, type WorkerServiceDeps } from './worker.service.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('cancelling a task while DBOS cannot reach its database', () => {
  it('stops the run and answers after a bounded wait instead of waiting for DBOS', async () => {
    vi.useFakeTimers();
    const { lines, logger } = captureLogs('debug');
    const cleanedUp: string[] = [];
    // Only what cancel uses: DBOS's cancel retries for as long as its database is gone.
    const service = new WorkerService({
      logger,
      work: { cleanUpCancelled: async (task: Task) => void cleanedUp.push(task.id) },
    } as unknown as WorkerServiceDeps);
    service.attach({ cancel: () => new Promise<void>(() => {}) } as unknown as TaskWorkflow);

    let answered = false;
    const cancelling = service.cancel({ id: 'task-1' } as Task).then(() => (answered = true));
    await vi.advanceTimersByTimeAsync(4_000);
    expect(answered).toBe(false);
    await vi.advanceTimersByTimeAsync(1_000);
    await cancelling;
    expect(cleanedUp).toEqual(['task-1']);
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 40, taskId: 'task-1', msg: expect.stringMatching(/not cancelled yet/) }),
    );
  });
});
