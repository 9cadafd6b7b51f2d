import type { Project } from '../../../contract/index.js';
import type { ApiClient, ProjectSummary } from '../api/client.js';
import type { ConnectionStatus, EventStream } from '../events/event-stream.js';

/**
 * The person's projects, one list for the whole app: the inbox's filter and task form, the names
 * on task cards and pages, the proposal editor and Settings all read it, and what Settings changes
 * is written to it, so every one of them shows a project added, changed or removed at once. No
 * event says that a project changed: the list is fetched at sign-in, whenever the event stream is
 * live again (another device may have changed it meanwhile) and when Settings opens.
 */
export class ProjectList {
  /** fetched (or changed here) since sign-in */
  loaded = $state(false);
  /** the last fetch failed, and none succeeded since sign-in */
  failed = $state(false);
  readonly byId: Record<string, Project> = $derived(
    Object.fromEntries(this.items.map((project) => [project.id, project])),
  );
  /** what a filter or a select shows */
  readonly summaries: ProjectSummary[] = $derived(this.items.map(({ id, name }) => ({ id, name })));

  readonly #api: ApiClient;
  readonly #stream: EventStream;
  #items: Project[] = $state.raw([]);
  #stop: (() => void) | undefined;
  #loading: Promise<void> | undefined;
  /** bumped by every change made here and by stop: a fetch begun before it is not applied */
  #generation = 0;

  constructor(api: ApiClient, stream: EventStream) {
    this.#api = api;
    this.#stream = stream;
  }

  /** sorted by name, as the server lists them */
  get items(): Project[] {
    return this.#items;
  }

  /** The list as changed here (Settings added, changed or removed a project); it wins over a fetch begun before. */
  set items(items: Project[]) {
    this.#generation++;
    this.#items = items;
    this.loaded = true;
    this.failed = false;
  }

  start(): void {
    if (this.#stop) return;
    let previous: ConnectionStatus = this.#stream.status;
    this.#stop = this.#stream.onStatus((status) => {
      if (status === 'live' && previous !== 'live') this.load().catch(() => {}); // names fall back to ids
      previous = status;
    });
    this.load().catch(() => {});
  }

  stop(): void {
    this.#stop?.();
    this.#stop = undefined;
    this.#generation++;
    this.#loading = undefined;
    this.#items = [];
    this.loaded = false;
    this.failed = false;
  }

  /** Fetches the list; a call while one fetch is out shares it. Rejects with the API's error. */
  load(): Promise<void> {
    if (this.#loading) return this.#loading;
    const loading = this.#fetch().finally(() => {
      if (this.#loading === loading) this.#loading = undefined;
    });
    this.#loading = loading;
    return loading;
  }

  async #fetch(): Promise<void> {
    const generation = this.#generation;
    try {
      const { projects } = await this.#api.listProjects();
      if (generation !== this.#generation) return;
      this.#items = projects;
      this.loaded = true;
      this.failed = false;
    } catch (error) {
      if (generation === this.#generation && !this.loaded) this.failed = true;
      throw error;
    }
  }
}
