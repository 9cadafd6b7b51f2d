import type { Message, User } from '../../../contract/index.js';
import type { ApiClient } from '../api/client.js';
import { providerNotice, type ProviderNotice } from '../chat/providers.js';
import type { ConnectionStatus, EventStream } from '../events/event-stream.js';
import { subscribeThreadEvents } from '../events/thread-events.js';
import { ComposerState } from './composer.svelte.js';
import type { ProjectList } from './project-list.svelte.js';
import { ProposalsState } from './proposals.svelte.js';
import type { RuntimesState } from './runtimes.svelte.js';
import type { TasksState } from './tasks.svelte.js';
import { ThreadState } from './thread.svelte.js';

/**
 * The chat: the thread, its proposals (their tasks live in TasksState), the composer, and whether a model answers.
 * Everything that changes arrives as events, so every signed-in device shows the same thread
 * live; when the event stream comes back after a gap, the latest page is fetched again and
 * the outbox delivered.
 */
export class ChatState {
  readonly thread: ThreadState;
  readonly proposals: ProposalsState;
  readonly composer: ComposerState;
  /** undefined until `/api/providers` answered (or when it cannot) */
  provider: ProviderNotice | undefined = $state();

  readonly #api: ApiClient;
  readonly #stream: EventStream;
  #userId: string | undefined;
  #stop: (() => void) | undefined;

  constructor(
    api: ApiClient,
    stream: EventStream,
    target: Window,
    tasks: TasksState,
    runtimes: RuntimesState,
    projects: ProjectList,
  ) {
    this.#api = api;
    this.#stream = stream;
    this.thread = new ThreadState(api);
    this.proposals = new ProposalsState(api, tasks, runtimes, projects);
    this.composer = new ComposerState(api, target, (message) => this.thread.receive(message, 'snapshot'));
  }

  start(user: User): void {
    if (this.#stop && this.#userId === user.id) return;
    this.stop();
    this.#userId = user.id;

    const stopEvents = subscribeThreadEvents(this.#stream, {
      'message.created': ({ message }) => this.#receive(message),
      'message.delta': ({ messageId, text }) => this.thread.receiveDelta(messageId, text),
      'message.completed': ({ message }) => this.#receive(message),
      'proposal.updated': ({ proposal }) => this.proposals.receive(proposal),
    });
    let previous: ConnectionStatus = this.#stream.status;
    const stopStatus = this.#stream.onStatus((status) => {
      if (status === 'live' && previous !== 'live') this.#caughtUp();
      previous = status;
    });
    this.#stop = () => {
      stopEvents();
      stopStatus();
    };

    void this.thread.loadLatest();
    void this.proposals.loadPending();
    void this.loadProvider();
    this.composer.start(user.id);
  }

  stop(): void {
    this.#stop?.();
    this.#stop = undefined;
    this.#userId = undefined;
    this.composer.stop();
    this.thread.reset();
    this.proposals.reset();
    this.provider = undefined;
  }

  async loadProvider(): Promise<void> {
    try {
      this.provider = providerNotice(await this.#api.getProviders());
    } catch {
      this.provider = undefined; // unknown: say nothing rather than something wrong
    }
  }

  #receive(message: Message): void {
    this.thread.receive(message, 'event');
    if (message.clientId) this.composer.accepted(message.clientId);
  }

  #caughtUp(): void {
    void this.thread.loadLatest();
    void this.proposals.loadPending();
    void this.composer.flush();
  }
}
