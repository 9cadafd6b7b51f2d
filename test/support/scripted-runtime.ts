import type { AgentOutcome, AgentRequest, AgentRuntime } from '../../src/server/workers/index.js';
import type { Runtime } from '../../src/contract/tasks.js';

/**
 * An agent runtime whose runs a test scripts, for the workflow's own logic (plan ⇄ approve,
 * questions, checks, review, retry, cancel). The agents themselves are tested through their real
 * adapters against fakes of their protocols (src/server/workers/runtimes/*.test.ts).
 */
export class ScriptedRuntime implements AgentRuntime {
  readonly requests: AgentRequest[] = [];
  private readonly steps: Array<(request: AgentRequest) => Promise<AgentOutcome> | AgentOutcome> = [];
  private waiting: Array<() => void> = [];

  constructor(readonly name: Runtime = 'claude-code') {}

  async availability() {
    return { available: true, reason: 'scripted for a test' };
  }

  /** The next runs, in order. */
  then(...steps: Array<(request: AgentRequest) => Promise<AgentOutcome> | AgentOutcome>): this {
    this.steps.push(...steps);
    return this;
  }

  async run(request: AgentRequest): Promise<AgentOutcome> {
    this.requests.push(request);
    for (const wake of this.waiting.splice(0)) wake();
    const step = this.steps.shift();
    if (!step) return { kind: 'failed', error: `the script has no run #${this.requests.length}` };
    return step(request);
  }

  /** Resolves once `count` runs have started. */
  async started(count: number): Promise<AgentRequest> {
    while (this.requests.length < count) await new Promise<void>((resolve) => this.waiting.push(resolve));
    return this.requests[count - 1]!;
  }
}

/** A run that waits until aborted (a long agent run), then ends as the runtimes do: `stopped`. */
export function untilAborted(request: AgentRequest): Promise<AgentOutcome> {
  return new Promise((resolve) => {
    if (request.signal.aborted) return resolve({ kind: 'failed', error: 'stopped' });
    request.signal.addEventListener('abort', () => resolve({ kind: 'failed', error: 'stopped' }), { once: true });
  });
}
