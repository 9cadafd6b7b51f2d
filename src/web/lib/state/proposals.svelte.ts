import type { Message, Proposal, Task, TaskSpec } from '../../../contract/index.js';
import { errorMessage, type ApiClient, type ProjectSummary } from '../api/client.js';
import type { RuntimesState } from './runtimes.svelte.js';
import type { TasksState } from './tasks.svelte.js';

/**
 * What the main thread proposed, and the tasks that confirmed proposals became. Pending
 * proposals are loaded at start; the rest arrive with `proposal.updated`; a card whose
 * proposal is unknown asks the server for it once. Tasks are TasksState's (kept live there).
 */
export class ProposalsState {
  proposals: Record<string, Proposal> = $state({});
  /** proposals the server could not tell us about (shown folded) */
  unavailable: Record<string, boolean> = $state({});
  busy: Record<string, 'confirm' | 'dismiss' | undefined> = $state({});
  errors: Record<string, string | undefined> = $state({});
  /** undefined: not asked yet; null: the server has no projects API yet */
  projects: ProjectSummary[] | null | undefined = $state();

  /** which runtimes the edit form offers */
  readonly runtimes: RuntimesState;

  readonly #api: ApiClient;
  readonly #tasks: TasksState;
  readonly #requested = new Set<string>();
  #generation = 0;

  constructor(api: ApiClient, tasks: TasksState, runtimes: RuntimesState) {
    this.#api = api;
    this.#tasks = tasks;
    this.runtimes = runtimes;
  }

  get tasks(): Record<string, Task> {
    return this.#tasks.tasks;
  }

  /** The cards under one assistant message: its proposalIds, plus any proposal that names it. */
  idsFor(message: Message): string[] {
    const ids = new Set(message.proposalIds ?? []);
    for (const proposal of Object.values(this.proposals)) {
      if (proposal.messageId === message.id) ids.add(proposal.id);
    }
    return [...ids];
  }

  async loadPending(): Promise<void> {
    const generation = this.#generation;
    try {
      const { proposals } = await this.#api.listProposals({ status: 'pending' });
      if (generation !== this.#generation) return;
      for (const proposal of proposals) this.receive(proposal);
    } catch {
      // cards ask for their own proposal; nothing to show here
    }
  }

  receive(proposal: Proposal): void {
    this.proposals[proposal.id] = proposal;
    delete this.unavailable[proposal.id];
    if (proposal.taskId) void this.ensureTask(proposal.taskId);
  }

  receiveTask(task: Task): void {
    this.#tasks.receive(task);
  }

  /** A card needs this proposal: ask the server once when it is not known. */
  async ensureProposal(id: string): Promise<void> {
    if (this.proposals[id] || this.#requested.has(`proposal:${id}`)) return;
    this.#requested.add(`proposal:${id}`);
    const generation = this.#generation;
    try {
      const { proposal } = await this.#api.request<{ proposal: Proposal }>(
        'GET',
        `/proposals/${encodeURIComponent(id)}`,
      );
      if (generation === this.#generation && !this.proposals[id]) this.receive(proposal);
    } catch {
      if (generation === this.#generation && !this.proposals[id]) this.unavailable[id] = true;
    }
  }

  ensureTask(id: string): Promise<void> {
    return this.#tasks.ensure(id);
  }

  async confirm(id: string, payload?: TaskSpec): Promise<boolean> {
    return this.#act(id, 'confirm', async () => {
      const { proposal, task } = await this.#api.confirmProposal(id, payload);
      if (task) this.receiveTask(task);
      this.receive(proposal);
    });
  }

  async dismiss(id: string): Promise<boolean> {
    return this.#act(id, 'dismiss', async () => {
      const { proposal } = await this.#api.dismissProposal(id);
      this.receive(proposal);
    });
  }

  /** For the edit form's project select; the projects API may not exist yet (issue 4). */
  async loadProjects(): Promise<void> {
    if (this.projects !== undefined) return;
    try {
      this.projects = (await this.#api.listProjects()).projects;
    } catch {
      this.projects = null; // the form then offers the proposal's own project, or none
    }
  }

  reset(): void {
    this.#generation++;
    this.#requested.clear();
    this.proposals = {};
    this.unavailable = {};
    this.busy = {};
    this.errors = {};
    this.projects = undefined;
  }

  async #act(id: string, action: 'confirm' | 'dismiss', run: () => Promise<void>): Promise<boolean> {
    if (this.busy[id]) return false;
    this.busy[id] = action;
    this.errors[id] = undefined;
    try {
      await run();
      return true;
    } catch (error) {
      this.errors[id] = errorMessage(error);
      return false;
    } finally {
      this.busy[id] = undefined;
    }
  }
}
