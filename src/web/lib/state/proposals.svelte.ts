import type { Message, Proposal, Task, TaskSpec } from '../../../contract/index.js';
import { errorMessage, type ApiClient, type ProjectSummary } from '../api/client.js';
import type { ProjectList } from './project-list.svelte.js';
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
  /** which runtimes the edit form offers */
  readonly runtimes: RuntimesState;

  readonly #api: ApiClient;
  readonly #tasks: TasksState;
  readonly #projects: ProjectList;
  readonly #requested = new Set<string>();
  #generation = 0;

  constructor(api: ApiClient, tasks: TasksState, runtimes: RuntimesState, projects: ProjectList) {
    this.#api = api;
    this.#tasks = tasks;
    this.#projects = projects;
    this.runtimes = runtimes;
  }

  get tasks(): Record<string, Task> {
    return this.#tasks.tasks;
  }

  /** For the edit form's project select and a card's project name: undefined while not fetched, null when it could not be */
  get projects(): ProjectSummary[] | null | undefined {
    const list = this.#projects;
    return list.loaded ? list.summaries : list.failed ? null : undefined;
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

  /** Fetches the projects unless they are here; when they cannot be, the form offers the proposal's own project, or none. */
  async loadProjects(): Promise<void> {
    if (!this.#projects.loaded) await this.#projects.load().catch(() => {});
  }

  reset(): void {
    this.#generation++;
    this.#requested.clear();
    this.proposals = {};
    this.unavailable = {};
    this.busy = {};
    this.errors = {};
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
