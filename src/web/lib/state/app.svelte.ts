import type { User } from '../../../contract/index.js';
import { ApiClient, ApiRequestError } from '../api/client.js';
import { browserNetwork, EventStream } from '../events/event-stream.js';
import { ROUTES } from '../router/routes.js';
import { ChatState } from './chat.svelte.js';
import { ConnectionState } from './connection.svelte.js';
import { InboxState } from './inbox.svelte.js';
import { ProjectList } from './project-list.svelte.js';
import { Router } from './router.svelte.js';
import { RuntimesState } from './runtimes.svelte.js';
import { SessionState } from './session.svelte.js';
import { SettingsState } from './settings.svelte.js';
import { TasksState } from './tasks.svelte.js';

/** The app's composition root: one API client, one event stream, and the state built on them. */
export class AppState {
  readonly api: ApiClient;
  readonly router: Router;
  readonly session: SessionState;
  readonly settings: SettingsState;
  readonly connection: ConnectionState;
  /** the person's projects, for everything that shows or picks one */
  readonly projects: ProjectList;
  readonly inbox: InboxState;
  readonly tasks: TasksState;
  /** which agent runtimes can run here, for every runtime picker */
  readonly runtimes: RuntimesState;
  readonly chat: ChatState;
  /** Set when the session could not be loaded at start (server unreachable). */
  startError: string | undefined = $state();

  constructor(target: Window) {
    this.api = new ApiClient({ onUnauthorized: () => this.signedOut() });
    this.router = new Router(target);
    this.session = new SessionState(this.api);
    this.settings = new SettingsState(this.api, target);
    const stream = new EventStream({
      network: browserNetwork(target),
      onUnauthorized: () => this.signedOut(),
    });
    stream.on('settings.updated', ({ settings }) => this.settings.receive(settings));
    this.projects = new ProjectList(this.api, stream);
    this.inbox = new InboxState(this.api, stream, target, this.projects);
    this.connection = new ConnectionState(stream);
    this.tasks = new TasksState(this.api, stream, this.projects);
    this.runtimes = new RuntimesState(this.api);
    this.chat = new ChatState(this.api, stream, target, this.tasks, this.runtimes, this.projects);
  }

  async start(): Promise<void> {
    this.startError = undefined;
    try {
      const info = await this.session.load();
      if (info.user) this.#whileSignedIn(info.user);
    } catch (error) {
      // Opened offline: the person this device last saw signed in gets what the device kept
      // (the inbox as last fetched, queued actions); a gone session shows sign-in once online.
      const user = error instanceof ApiRequestError && error.status === 0 ? this.session.remembered() : undefined;
      if (user) {
        this.session.signedIn(user);
        this.#whileSignedIn(user);
      } else {
        this.startError = 'The mainloop server cannot be reached right now.';
      }
    }
  }

  /** After sign-in or set-up: the server's settings win over this device's. */
  signedIn(user: User): void {
    this.session.signedIn(user);
    this.#whileSignedIn(user);
    this.router.navigate(ROUTES.home, { replace: true });
  }

  async signOut(): Promise<void> {
    await this.api.logout();
    this.inbox.forget();
    this.signedOut();
  }

  signedOut(): void {
    this.connection.stop();
    this.chat.stop();
    this.tasks.stop();
    this.inbox.stop();
    this.projects.stop();
    this.session.signedOut();
  }

  #whileSignedIn(user: User): void {
    this.connection.start();
    this.projects.start();
    this.tasks.start();
    this.inbox.start(user.id);
    this.chat.start(user);
    this.settings.load().catch(() => {
      // the stored theme stays; the settings page shows its own errors
    });
  }
}
