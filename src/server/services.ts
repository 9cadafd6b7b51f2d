import type { Logger } from 'pino';
import {
  ApiTokenRepository,
  ApiTokenService,
  apiTokenRoutes,
  AuthService,
  authRoutes,
  PasswordHasher,
  SessionRepository,
  SetupLinkPrinter,
  SetupService,
  SetupTokenRepository,
  UserRepository,
} from './auth/index.js';
import type { Config } from './config/index.js';
import type { Database } from './db/database.js';
import { EventHub, EventRepository, EventRetention, EventService, eventRoutes } from './events/index.js';
import type { RoutePlugin } from './http/app.js';
import { SystemClock, type Clock } from './lib/clock.js';
import { IdGenerator, type Ids } from './lib/ids.js';
import { setUpModels, type ModelSetup, type ProvidersDescription } from './models/index.js';
import { SettingsRepository, SettingsService, settingsRoutes } from './settings/index.js';
import { ProjectRepository, ProjectService, projectRoutes } from './projects/index.js';
import { InboxRepository, InboxService, InboxWaker, inboxRoutes } from './inbox/index.js';
import { createPush, pushRoutes, type PushDispatcher, type PushService } from './push/index.js';
import { TaskRepository, TaskService, taskRoutes, type TaskRunner } from './tasks/index.js';
import {
  ContextAssembler,
  MessageRepository,
  ProposalRepository,
  ProposalService,
  proposalRoutes,
  providerRoutes,
  registerTurnWorkflow,
  ThreadService,
  ThreadTools,
  threadRoutes,
  TurnRecovery,
  TurnService,
} from './thread/index.js';
import {
  ClaudeCodeRuntime,
  CodexRuntime,
  CommandRuntime,
  DecisionRepository,
  findBubblewrap,
  Sandboxes,
  QuestionRepository,
  registerTaskWorkflow,
  registerWorkerQueue,
  RuntimeRegistry,
  TaskLogRepository,
  TaskWork,
  WorkerService,
  workerRoutes,
  WorkspaceManager,
  type AgentRuntime,
} from './workers/index.js';

export interface Services {
  auth: AuthService;
  setup: SetupService;
  apiTokens: ApiTokenService;
  settings: SettingsService;
  /** publish events here (in your transaction with `append`, or alone with `publish`) */
  events: EventService;
  /** this instance's live delivery to SSE clients */
  eventHub: EventHub;
  /** the main thread: messages, their turns, event notes */
  thread: ThreadService;
  proposals: ProposalService;
  tasks: TaskService;
  projects: ProjectService;
  /** the attention queue: task items follow their tasks; scripts post external ones */
  inbox: InboxService;
  /** Web Push devices and the VAPID key; the dispatcher sends what the inbox marks worth a push */
  push: PushService;
  pushDispatcher: PushDispatcher;
  /** what the person does to running tasks (plan, questions, review, retry), and their logs and diffs */
  workers: WorkerService;
  /** which model provider the main thread uses, as found at start-up */
  providers: ProvidersDescription;
  /** the start-up sweep that leaves no reply streaming for ever (runs in afterListen) */
  turnRecovery: TurnRecovery;
  /** every feature's HTTP routes, mounted under /api */
  routes: RoutePlugin[];
  /** runs before the server listens: the owner and MAINLOOP_API_TOKEN exist before any request */
  beforeListen(): Promise<void>;
  /** runs once the server listens: the set-up link, the recovery sweep */
  afterListen(info: { url: string }): Promise<void>;
  /** what runs, for the line start-up ends with: the model, the runtimes, the sandbox, push */
  describe(): Promise<RunningParts>;
  stop(): Promise<void>;
}

/** What start-up says is running, part by part: each a short phrase for a person. */
export interface RunningParts {
  model: string;
  runtimes: string;
  sandbox: { kind: 'bubblewrap' | 'none' | 'unavailable'; summary: string; short: string };
  push: string;
}

function shortSandbox(status: { kind: 'bubblewrap' | 'none' | 'unavailable'; summary: string }): string {
  if (status.kind === 'bubblewrap')
    return `bubblewrap${process.getuid?.() === 0 ? ', tasks run as mainloop-task' : ''}`;
  if (status.kind === 'none') return 'none: tasks run unconfined (MAINLOOP_SANDBOX=none)';
  return status.summary;
}

/** Builds every service with its dependencies, explicitly: no locator, no globals. */
export async function createServices(options: {
  config: Config;
  logger: Logger;
  database: Database;
  clock?: Clock;
  ids?: Ids;
  /** where the one-time set-up link is shown; default: stdout */
  setupLinkPrinter?: Pick<SetupLinkPrinter, 'print'>;
  /** the main thread's model; default: the provider the configuration picks (src/server/models) */
  model?: ModelSetup;
  /** what runs a created task; default: the task workflow (src/server/workers) */
  taskRunner?: TaskRunner;
  /** the agent runtimes; default: every runtime built in, configured from `config` */
  runtimes?: AgentRuntime[];
  /** where bubblewrap is (null: not installed); default: `bwrap` on PATH */
  bubblewrap?: string | null;
}): Promise<Services> {
  const { config, logger, database } = options;
  const clock = options.clock ?? new SystemClock();
  const ids = options.ids ?? new IdGenerator();
  const db = database.db;

  const events = new EventService({
    db,
    repository: new EventRepository(),
    clock,
    retentionDays: config.eventRetentionDays,
  });
  // Started before listening (beforeListen): building the services touches no database.
  const eventHub = new EventHub({ databaseUrl: database.url, events, logger });
  const eventRetention = new EventRetention({ events, logger });

  const users = new UserRepository();
  const tokens = new ApiTokenRepository();
  const passwords = new PasswordHasher();
  const auth = new AuthService({
    db,
    users,
    tokens,
    sessions: new SessionRepository(),
    passwords,
    clock,
    ids,
    logger,
    publicUrl: config.publicUrl,
  });
  const setup = new SetupService({
    db,
    users,
    setupTokens: new SetupTokenRepository(),
    passwords,
    auth,
    clock,
    ids,
    logger,
    printer: options.setupLinkPrinter ?? new SetupLinkPrinter(),
  });
  const apiTokens = new ApiTokenService({ db, tokens, auth, clock, ids });
  const settings = new SettingsService({ db, settings: new SettingsRepository(), events, clock });

  // The main thread and tasks. A task reports to the thread (an `event` message) and the thread's
  // tools act on tasks: `thread` is built below and only called once requests run.
  const model = options.model ?? (await setUpModels(config));
  const messages = new MessageRepository();
  const proposalRepository = new ProposalRepository();
  const projects = new ProjectService({ db, projects: new ProjectRepository(), clock, ids });
  const taskRepository = new TaskRepository();
  const questionRepository = new QuestionRepository();
  const push = createPush({
    db,
    settings,
    clock,
    ids,
    logger,
    publicUrl: config.publicUrl,
    vapidSubject: config.vapidSubject,
  });
  const inbox = new InboxService({
    db,
    items: new InboxRepository(),
    questions: questionRepository,
    proposals: proposalRepository,
    events,
    clock,
    ids,
    logger: logger.child({ component: 'inbox' }),
    push: push.dispatcher,
  });
  const inboxWaker = new InboxWaker({ inbox, logger });
  // Workers: the task workflow runs what TaskService creates; WorkerService is its runner.
  const tasks: TaskService = new TaskService({
    db,
    tasks: taskRepository,
    events,
    runner: options.taskRunner ?? {
      enqueue: (task): Promise<void> => workers.enqueue(task),
      cancel: (task): Promise<void> => workers.cancel(task),
    },
    reporter: { postEvent: (userId, note, trx) => thread.postEvent(userId, note, trx) },
    clock,
    ids,
    logger,
    projects,
    defaultRuntime: config.workers.defaultRuntime,
    attention: inbox,
  });
  const runtimes = new RuntimeRegistry(options.runtimes ?? builtInRuntimes(config), config.workers.defaultRuntime);
  const logs = new TaskLogRepository();
  const decisions = new DecisionRepository();
  const sandboxes = new Sandboxes({
    mode: config.workers.sandbox,
    bwrap:
      config.workers.sandbox === 'none'
        ? undefined
        : options.bubblewrap === undefined
          ? findBubblewrap()
          : (options.bubblewrap ?? undefined),
    dataDir: config.dataDir,
    readOnly: [...config.workers.sandboxReadOnly],
    logger: logger.child({ component: 'sandbox' }),
  });
  const workspaces = new WorkspaceManager({ dataDir: config.dataDir, owner: sandboxes.taskUser });
  const work = new TaskWork({
    db,
    tasks: taskRepository,
    taskService: tasks,
    projects,
    questions: questionRepository,
    logs,
    decisions,
    events,
    workspaces,
    runtimes,
    config: { ...config.workers, dataDir: config.dataDir },
    sandboxes,
    clock,
    ids,
    logger: logger.child({ component: 'workers' }),
  });
  const workers: WorkerService = new WorkerService({
    db,
    tasks: taskRepository,
    taskService: tasks,
    questions: questionRepository,
    logs,
    decisions,
    events,
    workspaces,
    work,
    clock,
    logger,
    attention: inbox,
  });
  workers.attach(registerTaskWorkflow({ work, checkRounds: config.workers.checkRounds }));
  const proposals = new ProposalService({
    db,
    proposals: proposalRepository,
    tasks,
    events,
    clock,
    ids,
    attention: inbox,
  });
  const turns = new TurnService({
    db,
    messages,
    events,
    model: model.client,
    logger,
    assembler: new ContextAssembler({
      db,
      messages,
      proposals: proposalRepository,
      tasks,
      questions: workers,
      projects,
      clock,
    }),
    tools: new ThreadTools({ db, messages, tasks, proposals, questions: workers }),
  });
  // Registered with DBOS here, before it launches (server.ts launches it after createServices).
  const turnWorkflow = registerTurnWorkflow({ turns });
  const thread = new ThreadService({ db, messages, events, turns: turnWorkflow, ids, logger });
  const turnRecovery = new TurnRecovery({
    db,
    messages,
    turns,
    workflow: turnWorkflow,
    applicationVersion: config.version,
    logger,
  });

  let ownerId: string | undefined;
  return {
    auth,
    setup,
    apiTokens,
    settings,
    events,
    eventHub,
    thread,
    proposals,
    tasks,
    projects,
    inbox,
    push: push.service,
    pushDispatcher: push.dispatcher,
    workers,
    providers: model.providers,
    turnRecovery,
    routes: [
      authRoutes({ auth, setup }),
      apiTokenRoutes(apiTokens),
      settingsRoutes(settings),
      eventRoutes(eventHub),
      threadRoutes(thread),
      proposalRoutes(proposals),
      taskRoutes(tasks),
      workerRoutes(workers, tasks),
      projectRoutes(projects),
      inboxRoutes(inbox),
      pushRoutes(push.service),
      providerRoutes(model.providers, runtimes, sandboxes),
    ],
    async beforeListen() {
      const [owner] = await Promise.all([auth.bootstrap({ apiToken: config.apiToken }), eventHub.start()]);
      ownerId = owner.ownerId;
    },
    async afterListen({ url }) {
      ownerId ??= (await auth.bootstrap({ apiToken: config.apiToken })).ownerId;
      await setup.offerSetupLink({ baseUrl: url, ownerId });
      // DBOS has launched (and resumed the turns it could): finish or start what it could not.
      await turnRecovery.run();
      // Checked in the background (a bubblewrap run); without it, said as a warning too, and again for each task it stops.
      void sandboxes.status().then((status) => {
        if (status.kind !== 'bubblewrap') logger.warn({ sandbox: status.kind }, status.summary);
      });
      await registerWorkerQueue(config.workers.concurrency);
      await workers.recover();
      inboxWaker.start();
      push.start({ baseUrl: url });
      eventRetention.start();
    },
    async describe() {
      const [described, sandbox] = await Promise.all([runtimes.describe(), sandboxes.status()]);
      const { providers } = model;
      const unavailable = described.some((runtime) => !runtime.available);
      return {
        model:
          providers.active === 'none'
            ? 'none: the chat keeps what you write but cannot answer (Settings → Model and workers says what to set)'
            : `${providers.active}${providers.model ? ` · ${providers.model}` : ''}`,
        runtimes:
          described.map((runtime) => `${runtime.name} ${runtime.available ? 'ready' : 'unavailable'}`).join(', ') +
          (unavailable ? ' (Settings → Model and workers says why)' : ''),
        sandbox: { kind: sandbox.kind, summary: sandbox.summary, short: shortSandbox(sandbox) },
        push: push.describe(),
      };
    },
    async stop() {
      turns.stop();
      await inboxWaker.stop();
      await push.stop();
      await eventRetention.stop();
      await eventHub.stop();
    },
  };
}

/** Every agent runtime mainloop has, configured from the environment; each gets its credentials explicitly. */
function builtInRuntimes(config: Config): AgentRuntime[] {
  const { codex } = config.workers;
  const { anthropic, claudeCode } = config.models;
  return [
    new ClaudeCodeRuntime({
      anthropic: { apiKey: anthropic.apiKey, baseUrl: anthropic.baseUrl },
      claudeCode: { oauthToken: claudeCode.oauthToken, configDir: claudeCode.configDir },
      ...(config.workers.model ? { defaultModel: config.workers.model } : {}),
    }),
    new CodexRuntime({
      ...(codex.executable ? { executable: codex.executable } : {}),
      ...(codex.apiKey || codex.baseUrl ? { openai: { apiKey: codex.apiKey, baseUrl: codex.baseUrl } } : {}),
      ...(codex.model ? { defaultModel: codex.model } : {}),
    }),
    new CommandRuntime(),
  ];
}
