import type {
  AnswerRequest,
  ApiToken,
  ConfirmProposalResponse,
  CreateProjectRequest,
  CreateTaskRequest,
  CreateTokenResponse,
  InboxHistoryResponse,
  InboxItemResponse,
  InboxResponse,
  ListTasksQuery,
  LoginRequest,
  MessagePage,
  MessageResponse,
  PlanDecisionRequest,
  PostMessageRequest,
  Project,
  ProjectInspection,
  ProjectList,
  ProposalList,
  ProposalResponse,
  Proposal,
  ProvidersResponse,
  QuestionList,
  QuestionResponse,
  QuestionStatus,
  ReviewDecisionRequest,
  SessionInfo,
  Settings,
  SettingsPatch,
  SetupLinkStatus,
  SetupRequest,
  UpdateProjectRequest,
  TaskDiffResponse,
  TaskList,
  TaskLogsResponse,
  TaskResponse,
  User,
} from '../../../contract/index.js';
import { describeValidation, type FieldLabels } from './validation.js';

export type { FieldLabels } from './validation.js';

/**
 * The one typed client for the mainloop HTTP API. Plain TypeScript with no Svelte and no
 * browser globals beyond `fetch`, so that the CLI and the tests can use it too: the base
 * URL, a bearer token and `fetch` itself are injectable.
 */

/** An answer outside 2xx, with the server's `{code, message, details?}`; status 0 when the server could not be reached. */
export class ApiRequestError extends Error {
  override readonly name = 'ApiRequestError';

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const NETWORK_ERROR = 'NETWORK_ERROR';

export interface ApiClientOptions {
  /** Where the API lives, e.g. `http://127.0.0.1:3000`; default '' (the page's own origin). */
  baseUrl?: string;
  /** An API token, sent as `Authorization: Bearer …` (the CLI, scripts); the browser uses its session cookie instead. */
  token?: string;
  fetch?: typeof fetch;
  /** Called on any 401 outside `/api/auth/*`: the session is gone (the web app then shows sign-in). */
  onUnauthorized?: (error: ApiRequestError) => void;
}

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

/** A project as the chat's proposal form needs it. */
export type ProjectSummary = Pick<Project, 'id' | 'name'>;

export class ApiClient {
  readonly #baseUrl: string;
  readonly #token: string | undefined;
  readonly #fetch: typeof fetch;
  readonly #onUnauthorized: ((error: ApiRequestError) => void) | undefined;

  constructor(options: ApiClientOptions = {}) {
    this.#baseUrl = (options.baseUrl ?? '').replace(/\/+$/, '');
    this.#token = options.token;
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.#onUnauthorized = options.onUnauthorized;
  }

  // auth
  getSession(): Promise<SessionInfo> {
    return this.request('GET', '/auth/session');
  }
  login(body: LoginRequest): Promise<{ user: User }> {
    return this.request('POST', '/auth/login', body);
  }
  setup(body: SetupRequest): Promise<{ user: User }> {
    return this.request('POST', '/auth/setup', body);
  }
  /** Whether a set-up link still works (the set-up page asks when it opens). */
  checkSetupLink(token: string): Promise<SetupLinkStatus> {
    return this.request('POST', '/auth/setup/check', { token });
  }
  logout(): Promise<void> {
    return this.request('POST', '/auth/logout');
  }

  // settings
  getSettings(): Promise<{ settings: Settings }> {
    return this.request('GET', '/settings');
  }
  updateSettings(patch: SettingsPatch): Promise<{ settings: Settings }> {
    return this.request('PATCH', '/settings', patch);
  }

  // API tokens
  listTokens(): Promise<{ tokens: ApiToken[] }> {
    return this.request('GET', '/tokens');
  }
  createToken(name: string): Promise<CreateTokenResponse> {
    return this.request('POST', '/tokens', { name });
  }
  revokeToken(id: string): Promise<void> {
    return this.request('DELETE', `/tokens/${encodeURIComponent(id)}`);
  }

  // thread
  listMessages(query: { before?: string; limit?: number } = {}): Promise<MessagePage> {
    return this.request('GET', `/thread/messages${queryString(query)}`);
  }
  postMessage(body: PostMessageRequest): Promise<MessageResponse> {
    return this.request('POST', '/thread/messages', body);
  }
  retryMessage(id: string): Promise<MessageResponse> {
    return this.request('POST', `/thread/messages/${encodeURIComponent(id)}/retry`);
  }

  // proposals
  listProposals(query: { status?: Proposal['status'] } = {}): Promise<ProposalList> {
    return this.request('GET', `/proposals${queryString(query)}`);
  }
  /** `payload`: the person's edited version of a spawn_task proposal */
  confirmProposal(id: string, payload?: CreateTaskRequest): Promise<ConfirmProposalResponse> {
    return this.request('POST', `/proposals/${encodeURIComponent(id)}/confirm`, payload ? { payload } : {});
  }
  dismissProposal(id: string): Promise<ProposalResponse> {
    return this.request('POST', `/proposals/${encodeURIComponent(id)}/dismiss`);
  }

  // tasks
  listTasks(query: ListTasksQuery = {}): Promise<TaskList> {
    return this.request('GET', `/tasks${queryString(query)}`);
  }
  /** Starts a task without a proposal (the inbox's "New task"). */
  createTask(body: CreateTaskRequest): Promise<TaskResponse> {
    return this.request('POST', '/tasks', body);
  }
  getTask(id: string): Promise<TaskResponse> {
    return this.request('GET', `/tasks/${encodeURIComponent(id)}`);
  }
  cancelTask(id: string): Promise<TaskResponse> {
    return this.request('POST', `${taskPath(id)}/cancel`);
  }
  retryTask(id: string): Promise<TaskResponse> {
    return this.request('POST', `${taskPath(id)}/retry`);
  }
  decidePlan(id: string, body: PlanDecisionRequest): Promise<TaskResponse> {
    return this.request('POST', `${taskPath(id)}/plan`, body);
  }
  decideReview(id: string, body: ReviewDecisionRequest): Promise<TaskResponse> {
    return this.request('POST', `${taskPath(id)}/review`, body);
  }
  /** The log after `after` (a seq), oldest first; `hasMore` when the page was full. */
  getTaskLogs(id: string, query: { after?: number; limit?: number } = {}): Promise<TaskLogsResponse> {
    return this.request('GET', `${taskPath(id)}/logs${queryString(query)}`);
  }
  /** The task's change against its base, file by file (the JSON form of `/diff`). */
  getTaskDiff(id: string): Promise<TaskDiffResponse> {
    return this.request('GET', `${taskPath(id)}/diff`);
  }

  // questions
  listQuestions(query: { status?: QuestionStatus; taskId?: string } = {}): Promise<QuestionList> {
    return this.request('GET', `/questions${queryString(query)}`);
  }
  answerQuestion(id: string, answer: AnswerRequest['answer']): Promise<QuestionResponse> {
    return this.request('POST', `/questions/${encodeURIComponent(id)}/answer`, { answer });
  }

  // inbox
  getInbox(query: { projectId?: string } = {}): Promise<InboxResponse> {
    return this.request('GET', `/inbox${queryString(query)}`);
  }
  /** Done items, newest first; `before` is the last item id of the previous page. */
  getInboxHistory(
    query: { q?: string; before?: string; limit?: number; projectId?: string } = {},
  ): Promise<InboxHistoryResponse> {
    return this.request('GET', `/inbox/history${queryString(query)}`);
  }
  markInboxItemDone(id: string): Promise<InboxItemResponse> {
    return this.request('POST', `${inboxItemPath(id)}/done`);
  }
  /** `until`: an ISO-8601 time in the future */
  snoozeInboxItem(id: string, until: string): Promise<InboxItemResponse> {
    return this.request('POST', `${inboxItemPath(id)}/snooze`, { until });
  }

  // projects, providers
  listProjects(): Promise<ProjectList> {
    return this.request('GET', '/projects');
  }
  createProject(body: CreateProjectRequest): Promise<{ project: Project }> {
    return this.request('POST', '/projects', body);
  }
  updateProject(id: string, body: UpdateProjectRequest): Promise<{ project: Project }> {
    return this.request('PATCH', `/projects/${encodeURIComponent(id)}`, body);
  }
  /** The check command the repository at `path` suggests (the owner only; 404 for anyone else). */
  inspectProject(path: string): Promise<ProjectInspection> {
    return this.request('GET', `/projects/inspect${queryString({ path })}`);
  }
  deleteProject(id: string): Promise<void> {
    return this.request('DELETE', `/projects/${encodeURIComponent(id)}`);
  }
  getProviders(): Promise<ProvidersResponse> {
    return this.request('GET', '/providers');
  }

  /** One call to `/api<path>`; JSON in and out; throws `ApiRequestError` for anything but 2xx. */
  async request<T>(method: Method, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (this.#token) headers['Authorization'] = `Bearer ${this.#token}`;

    let response: Response;
    try {
      response = await this.#fetch(`${this.#baseUrl}/api${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'same-origin',
      });
    } catch (error) {
      throw new ApiRequestError(
        0,
        NETWORK_ERROR,
        'The mainloop server cannot be reached. Check your connection.',
        undefined,
        {
          cause: error,
        },
      );
    }

    if (!response.ok) {
      const error = await errorFrom(response);
      if (response.status === 401 && !path.startsWith('/auth/')) this.#onUnauthorized?.(error);
      throw error;
    }
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }
}

function taskPath(id: string): string {
  return `/tasks/${encodeURIComponent(id)}`;
}

function inboxItemPath(id: string): string {
  return `/inbox/items/${encodeURIComponent(id)}`;
}

function queryString(query: Record<string, string | number | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

async function errorFrom(response: Response): Promise<ApiRequestError> {
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  if (isErrorBody(body)) return new ApiRequestError(response.status, body.code, body.message, body.details);
  const message =
    response.status >= 500
      ? 'The server ran into a problem. Try again in a moment.'
      : `Request failed (${response.status}).`;
  return new ApiRequestError(response.status, `HTTP_${response.status}`, message);
}

function isErrorBody(body: unknown): body is { code: string; message: string; details?: unknown } {
  return (
    typeof body === 'object' &&
    body !== null &&
    typeof (body as { code?: unknown }).code === 'string' &&
    typeof (body as { message?: unknown }).message === 'string'
  );
}

/**
 * A message a person can act on, for any error a call may throw. Invalid input is said field by
 * field, each by its name in the form (`labels`, else the field's own name in words).
 */
export function errorMessage(error: unknown, labels?: FieldLabels): string {
  if (!(error instanceof ApiRequestError)) return 'Something went wrong. Try again.';
  if (error.code === 'VALIDATION_FAILED') return describeValidation(error.details, labels) ?? error.message;
  return error.message;
}
