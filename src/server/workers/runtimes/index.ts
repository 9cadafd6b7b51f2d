import type { Runtime } from '../../../contract/tasks.js';
import type { AgentRuntime, RuntimeAvailability } from '../runtime.js';

/** The agent runtimes this server has, by name: the workflow asks here, never for a concrete class. */
export class RuntimeRegistry {
  private readonly byName = new Map<Runtime, AgentRuntime>();

  constructor(
    runtimes: AgentRuntime[],
    readonly defaultRuntime: Runtime,
  ) {
    for (const runtime of runtimes) this.byName.set(runtime.name, runtime);
  }

  get(name: Runtime): AgentRuntime | undefined {
    return this.byName.get(name);
  }

  /** Each runtime with whether it can run here and why not (GET /api/providers). */
  async describe(): Promise<Array<RuntimeAvailability & { name: Runtime; default: boolean }>> {
    const names: Runtime[] = ['claude-code', 'codex', 'command'];
    return Promise.all(
      names.map(async (name) => {
        const runtime = this.byName.get(name);
        const availability = runtime
          ? await runtime.availability().catch((error: unknown) => ({
              available: false,
              reason: `could not tell: ${error instanceof Error ? error.message : String(error)}`,
            }))
          : { available: false, reason: 'not built into this server' };
        return { name, ...availability, default: name === this.defaultRuntime };
      }),
    );
  }
}
