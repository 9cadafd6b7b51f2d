import type { EventData, InboxItem, InboxResponse } from '../../../contract/index.js';
import { ApiRequestError, errorMessage, type ApiClient, type ProjectSummary } from '../api/client.js';
import type { ConnectionStatus, EventStream, Timers } from '../events/event-stream.js';
import { ActionDelivery, ActionQueue, INBOX_QUEUE_KEY_PREFIX, type QueuedAction } from '../inbox/action-queue.js';
import { describeAction, sendAction, type InboxAction } from '../inbox/actions.js';
import {
  applyActions,
  clearDeviceInbox,
  needsYouCount,
  readCache,
  readFilter,
  writeCache,
  writeFilter,
  type InboxView,
} from '../inbox/view.js';
import { newClientId, type StorageLike } from './outbox.js';
import type { ProjectList } from './project-list.svelte.js';

type Counts = EventData<'inbox.updated'>['counts'];

export interface InboxNote {
  id: number;
  text: string;
  tone: 'info' | 'error';
}

/** Bursts of events (a task moving through several states, questions asked together) make one fetch. */
const COALESCE_MS = 150;
/** A snoozed item is fetched again this long after its time (the server counts it due from then). */
const WAKE_MARGIN_MS = 300;
const MAX_TIMER_MS = 6 * 60 * 60 * 1000;

const realTimers: Timers = {
  setTimeout: (callback, milliseconds) => globalThis.setTimeout(callback, milliseconds),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * The inbox, kept live: `GET /api/inbox` at start, whenever the event stream is live again, and
 * (coalesced) on `inbox.updated`, `task.updated` and `question.*`; again when a snoozed item is due.
 * The last answer is kept on the device, so an inbox opened offline shows it, marked stale.
 * What the person does goes through a durable queue (sent in order when online) and shows at
 * once: the item leaves the list while its action is queued or sent but not yet refetched.
 */
export class InboxState {
  /** the server's needs-you, active and failure counts (all projects), from `inbox.updated` and every fetch */
  counts: Counts = $state({ needsYou: 0, active: 0, failures: 0 });
  response: InboxResponse | undefined = $state.raw();
  /** when `response` was fetched (ISO) */
  fetchedAt: string | undefined = $state();
  /** `response` is what this device kept: the server could not be reached since */
  stale = $state(false);
  loadError: string | undefined = $state();
  /** the project filter ('' or undefined: every project), remembered on this device */
  projectId: string | undefined = $state();
  /** for the filter, the task form and the cards: the app's list, or what this device kept until it is fetched */
  readonly projects: ProjectSummary[] = $derived.by(() =>
    this.#projectList.loaded ? this.#projectList.summaries : this.#keptProjects,
  );
  /** actions on this device not yet accepted by the server, oldest first */
  queued: QueuedAction[] = $state.raw([]);
  /** the queued action whose request is out */
  sending: string | undefined = $state();
  /** why an action on an item (or a task) was refused, by item id or task id */
  errors: Record<string, string> = $state({});
  notes: InboxNote[] = $state([]);
  readonly history: InboxHistory;

  /** delivered, but the list shown predates them */
  #unlisted: InboxAction[] = $state.raw([]);
  /** delivered, but the counts shown predate them */
  #uncounted: InboxAction[] = $state.raw([]);

  readonly view: InboxView = $derived.by(() =>
    applyActions(this.response, [...this.queued.map((entry) => entry.action), ...this.#unlisted]),
  );
  /** what the badge, the title and the favicon show */
  readonly needsYouCount: number = $derived.by(() =>
    needsYouCount(this.counts, this.response, [...this.queued.map((entry) => entry.action), ...this.#uncounted]),
  );

  readonly #api: ApiClient;
  readonly #stream: EventStream;
  readonly #window: Window;
  readonly #timers: Timers;
  readonly #projectList: ProjectList;
  #keptProjects: ProjectSummary[] = $state.raw([]);
  #userId: string | undefined;
  #queue: ActionQueue | undefined;
  #delivery: ActionDelivery | undefined;
  #stop: (() => void) | undefined;
  #generation = 0;
  /** bumped whenever an action lands: a fetch started before it may not show it */
  #epoch = 0;
  #refreshTimer: unknown;
  #wakeTimer: unknown;
  #refreshing: Promise<void> | undefined;
  #again = false;
  #noteId = 0;

  constructor(api: ApiClient, stream: EventStream, target: Window, projects: ProjectList, timers: Timers = realTimers) {
    this.#api = api;
    this.#stream = stream;
    this.#window = target;
    this.#projectList = projects;
    this.#timers = timers;
    this.history = new InboxHistory(api);
  }

  get online(): boolean {
    return this.#window.navigator.onLine !== false;
  }

  start(userId: string): void {
    if (this.#stop && this.#userId === userId) return;
    this.stop();
    this.#userId = userId;
    const storage = this.#storage();
    this.projectId = readFilter(storage, userId);
    const cached = readCache(storage, userId);
    if (cached && cached.projectId === this.projectId) {
      this.response = cached.response;
      this.fetchedAt = cached.at;
      this.stale = !this.online;
      this.counts = cached.response.counts;
      if (cached.projects?.length) this.#keptProjects = cached.projects;
    }

    const queue = new ActionQueue(storage, INBOX_QUEUE_KEY_PREFIX + userId);
    this.#queue = queue;
    this.#delivery = new ActionDelivery({
      queue,
      send: (action) => sendAction(this.#api, action),
      isOnline: () => this.online,
      timers: this.#timers,
      onChange: () => this.#syncQueue(),
      onDelivered: (entry) => this.#landed(entry.action),
      onConflict: (entry, error) => {
        this.note(`${describeAction(entry.action)}: ${errorMessage(error)} Nothing else to do.`, 'info');
        this.#landed(entry.action);
      },
      onRejected: (entry, error) => {
        const message = errorMessage(error);
        this.errors[keyOf(entry.action)] = message;
        this.note(`${describeAction(entry.action)} did not go through: ${message}`, 'error');
        this.scheduleRefresh(0);
      },
    });
    this.#syncQueue();

    const refreshSoon = () => this.scheduleRefresh();
    const stops = [
      this.#stream.on('inbox.updated', (data) => {
        if (!isCounts(data?.counts)) return;
        this.counts = data.counts;
        this.#uncounted = [];
        this.scheduleRefresh();
      }),
      this.#stream.on('task.updated', refreshSoon),
      this.#stream.on('question.created', refreshSoon),
      this.#stream.on('question.answered', refreshSoon),
    ];
    let previous: ConnectionStatus = this.#stream.status;
    stops.push(
      this.#stream.onStatus((status) => {
        if (status === 'live' && previous !== 'live') {
          void this.#delivery?.flush();
          void this.refresh();
        }
        previous = status;
      }),
    );
    const online = () => {
      void this.#delivery?.flush();
      this.scheduleRefresh(0);
    };
    const offline = () => {
      if (this.response) this.stale = true;
    };
    const storageChanged = (event: StorageEvent) => {
      if (event.key === queue.key) this.#syncQueue(); // another tab acted or delivered
    };
    this.#window.addEventListener('online', online);
    this.#window.addEventListener('offline', offline);
    this.#window.addEventListener('storage', storageChanged);
    this.#stop = () => {
      stops.forEach((stop) => stop());
      this.#window.removeEventListener('online', online);
      this.#window.removeEventListener('offline', offline);
      this.#window.removeEventListener('storage', storageChanged);
    };
    void this.refresh();
    void this.#delivery.flush();
  }

  stop(): void {
    this.#stop?.();
    this.#stop = undefined;
    this.#delivery?.stop();
    this.#delivery = undefined;
    this.#queue = undefined;
    this.#generation++;
    this.#clearTimer('refresh');
    this.#clearTimer('wake');
    this.response = undefined;
    this.fetchedAt = undefined;
    this.stale = false;
    this.loadError = undefined;
    this.queued = [];
    this.#unlisted = [];
    this.#uncounted = [];
    this.errors = {};
    this.notes = [];
    this.counts = { needsYou: 0, active: 0, failures: 0 };
    this.#keptProjects = [];
    this.history.reset();
  }

  /** Signed out on purpose: what this device kept of the inbox goes too (queued actions stay for the next sign-in). */
  forget(): void {
    if (this.#userId) clearDeviceInbox(this.#storage(), this.#userId);
    this.stop();
    this.#userId = undefined;
  }

  /** Fetch again in a moment; calls within the moment make one fetch. */
  scheduleRefresh(delayMs = COALESCE_MS): void {
    if (!this.#userId) return;
    if (this.#refreshTimer !== undefined) {
      if (delayMs > 0) return;
      this.#clearTimer('refresh');
    }
    this.#refreshTimer = this.#timers.setTimeout(() => {
      this.#refreshTimer = undefined;
      void this.refresh();
    }, delayMs);
  }

  /** One fetch at a time; one asked for meanwhile runs right after. */
  refresh(): Promise<void> {
    if (this.#refreshing) {
      this.#again = true;
      return this.#refreshing;
    }
    this.#refreshing = (async () => {
      do {
        this.#again = false;
        await this.#fetch();
      } while (this.#again && this.#stop);
    })().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  /** Shows only one project's items and tasks (undefined: all); remembered on this device. */
  async chooseProject(projectId: string | undefined): Promise<void> {
    const next = projectId || undefined;
    if (next === this.projectId) return;
    this.projectId = next;
    if (this.#userId) writeFilter(this.#storage(), this.#userId, next);
    this.response = undefined;
    this.fetchedAt = undefined;
    this.stale = false;
    this.history.reset();
    await this.refresh();
  }

  /** Takes an action: written to the queue, shown at once, sent when it can be. */
  act(action: InboxAction): void {
    const queue = this.#queue;
    if (!queue) return;
    delete this.errors[keyOf(action)];
    queue.add({ id: newClientId(), action });
    this.#syncQueue();
    void this.#delivery?.flush();
  }

  /** whether an action on this item (or task) waits in the queue */
  isQueued(key: string): boolean {
    return this.queued.some((entry) => keyOf(entry.action) === key);
  }

  note(text: string, tone: InboxNote['tone'] = 'info'): void {
    this.notes = [...this.notes.slice(-4), { id: ++this.#noteId, text, tone }];
  }

  dismissNote(id: number): void {
    this.notes = this.notes.filter((note) => note.id !== id);
  }

  async #fetch(): Promise<void> {
    const generation = this.#generation;
    const epoch = this.#epoch;
    const projectId = this.projectId;
    try {
      const response = await this.#api.getInbox(projectId ? { projectId } : {});
      if (generation !== this.#generation || projectId !== this.projectId) return;
      if (epoch !== this.#epoch) {
        this.#again = true; // an action landed meanwhile: this copy may not show it yet
        return;
      }
      const at = new Date().toISOString();
      this.response = response;
      this.fetchedAt = at;
      this.stale = false;
      this.loadError = undefined;
      this.#unlisted = [];
      this.counts = response.counts; // every project's, whatever the filter
      this.#uncounted = [];
      if (this.#userId) {
        writeCache(this.#storage(), this.#userId, {
          at,
          response,
          projects: this.projects,
          ...(projectId ? { projectId } : {}),
        });
      }
      this.#armWake(response.snoozed);
    } catch (error) {
      if (generation !== this.#generation) return;
      const unreachable = error instanceof ApiRequestError && (error.status === 0 || error.status >= 500);
      if (unreachable && this.response) this.stale = true;
      else this.loadError = errorMessage(error);
    }
  }

  /** An action the server accepted (or that someone had already taken): hidden until a fetch shows the result. */
  #landed(action: InboxAction): void {
    this.#epoch++;
    this.#unlisted = [...this.#unlisted, action];
    this.#uncounted = [...this.#uncounted, action];
    this.scheduleRefresh(0);
  }

  /** A snoozed item comes back at its time: fetch again then (the server shows it as due from that moment). */
  #armWake(snoozed: readonly InboxItem[]): void {
    this.#clearTimer('wake');
    const now = Date.now();
    const next = snoozed
      .map((item) => Date.parse(item.snoozedUntil ?? ''))
      .filter((time) => Number.isFinite(time))
      .sort((a, b) => a - b)[0];
    if (next === undefined) return;
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, next - now) + WAKE_MARGIN_MS);
    this.#wakeTimer = this.#timers.setTimeout(() => {
      this.#wakeTimer = undefined;
      this.scheduleRefresh(0);
    }, delay);
  }

  #syncQueue(): void {
    this.queued = this.#queue?.entries() ?? [];
    this.sending = this.#delivery?.inFlight;
  }

  #clearTimer(which: 'refresh' | 'wake'): void {
    const handle = which === 'refresh' ? this.#refreshTimer : this.#wakeTimer;
    if (handle !== undefined) this.#timers.clearTimeout(handle);
    if (which === 'refresh') this.#refreshTimer = undefined;
    else this.#wakeTimer = undefined;
  }

  #storage(): StorageLike | undefined {
    try {
      return this.#window.localStorage;
    } catch {
      return undefined;
    }
  }
}

/** The key an action's error is kept under: its item, else its task. */
export function keyOf(action: InboxAction): string {
  return action.itemId ?? (action.type === 'retry' || action.type === 'cancel' ? action.taskId : '');
}

function isCounts(value: unknown): value is Counts {
  if (typeof value !== 'object' || value === null) return false;
  const counts = value as Record<string, unknown>;
  return (
    typeof counts.needsYou === 'number' && typeof counts.active === 'number' && typeof counts.failures === 'number'
  );
}

/** Done items, newest first, paged and searchable: loaded only when the person unfolds the history. */
export class InboxHistory {
  items: InboxItem[] = $state.raw([]);
  hasMore = $state(false);
  loading = $state(false);
  loaded = $state(false);
  error: string | undefined = $state();
  query = $state('');

  readonly #api: ApiClient;
  #generation = 0;

  constructor(api: ApiClient) {
    this.#api = api;
  }

  reset(): void {
    this.#generation++;
    this.items = [];
    this.hasMore = false;
    this.loading = false;
    this.loaded = false;
    this.error = undefined;
  }

  /** The first page for `query` (the search box), in `projectId`. */
  async search(query: string, projectId: string | undefined): Promise<void> {
    this.reset();
    this.query = query;
    await this.#page(projectId, undefined);
  }

  async more(projectId: string | undefined): Promise<void> {
    if (this.loading || !this.hasMore) return;
    await this.#page(projectId, this.items.at(-1)?.id);
  }

  async #page(projectId: string | undefined, before: string | undefined): Promise<void> {
    const generation = this.#generation;
    this.loading = true;
    this.error = undefined;
    try {
      const page = await this.#api.getInboxHistory({
        ...(this.query.trim() ? { q: this.query.trim() } : {}),
        ...(before ? { before } : {}),
        ...(projectId ? { projectId } : {}),
        limit: 20,
      });
      if (generation !== this.#generation) return;
      this.items = [...this.items, ...page.items];
      this.hasMore = page.hasMore;
      this.loaded = true;
    } catch (error) {
      if (generation === this.#generation) this.error = errorMessage(error);
    } finally {
      if (generation === this.#generation) this.loading = false;
    }
  }
}
