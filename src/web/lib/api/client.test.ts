import { describe, expect, it, vi } from 'vitest';
import { ApiClient, ApiRequestError, errorMessage, NETWORK_ERROR } from './client.js';

function recordingFetch(respond: () => Response | Promise<Response>) {
  const calls: Array<{ url: string; init: RequestInit }> = [];
  const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    calls.push({ url: String(input), init: init ?? {} });
    return respond();
  });
  return { fetch: fetch as unknown as typeof globalThis.fetch, calls };
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

describe('ApiClient', () => {
  it('sends JSON with the session cookie and parses the answer', async () => {
    const { fetch, calls } = recordingFetch(() => json(200, { user: { id: 'u1', username: 'ada' } }));
    const api = new ApiClient({ fetch });
    const result = await api.login({ username: 'ada', password: 'secret-password' });
    expect(result.user.username).toBe('ada');
    expect(calls[0]!.url).toBe('/api/auth/login');
    expect(calls[0]!.init.method).toBe('POST');
    expect(calls[0]!.init.credentials).toBe('same-origin');
    expect(JSON.parse(String(calls[0]!.init.body))).toEqual({ username: 'ada', password: 'secret-password' });
    expect((calls[0]!.init.headers as Record<string, string>)['Content-Type']).toBe('application/json');
  });

  it('uses an injected base URL and bearer token (the CLI)', async () => {
    const { fetch, calls } = recordingFetch(() => json(200, { tokens: [] }));
    await new ApiClient({ fetch, baseUrl: 'http://127.0.0.1:3000/', token: 't0ken' }).listTokens();
    expect(calls[0]!.url).toBe('http://127.0.0.1:3000/api/tokens');
    expect((calls[0]!.init.headers as Record<string, string>)['Authorization']).toBe('Bearer t0ken');
    expect(calls[0]!.init.body).toBeUndefined();
  });

  it('returns undefined for 204 and encodes ids in paths', async () => {
    const { fetch, calls } = recordingFetch(() => new Response(null, { status: 204 }));
    await expect(new ApiClient({ fetch }).revokeToken('a/b')).resolves.toBeUndefined();
    expect(calls[0]!.url).toBe('/api/tokens/a%2Fb');
    expect(calls[0]!.init.method).toBe('DELETE');
  });

  it('throws ApiRequestError with the server error body', async () => {
    const { fetch } = recordingFetch(() =>
      json(400, { code: 'VALIDATION_FAILED', message: 'name is required', details: [{ path: 'name' }] }),
    );
    const error = await new ApiClient({ fetch }).createToken('').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApiRequestError);
    expect(error).toMatchObject({
      status: 400,
      code: 'VALIDATION_FAILED',
      message: 'name is required',
      details: [{ path: 'name' }],
    });
  });

  it('says invalid input field by field, by the name the form gives it, never as a request path', () => {
    const invalid = (...issues: Array<{ path: string; message: string }>) =>
      new ApiRequestError(400, 'VALIDATION_FAILED', 'invalid request: …', { issues });
    const labels = { 'repo.path': 'Repository path', checkCommand: 'Check command' };
    expect(errorMessage(invalid({ path: 'body.repo.path', message: 'path must be absolute' }), labels)).toBe(
      'Repository path must be absolute.',
    );
    expect(errorMessage(invalid({ path: 'repo.path', message: '/srv/app is not a git repository' }), labels)).toBe(
      'Repository path: /srv/app is not a git repository.',
    );
    expect(
      errorMessage(
        invalid(
          { path: 'body.defaultBranch', message: 'the repository has no branch trunk' },
          { path: 'body.name', message: 'name is required' },
        ),
      ),
    ).toBe('Default branch: the repository has no branch trunk. Name is required.');
    expect(errorMessage(invalid({ path: 'body', message: 'Invalid input: expected object' }))).toBe(
      'Invalid input: expected object.',
    );
    // other errors keep the server's sentence; a validation error without issues too
    expect(errorMessage(new ApiRequestError(409, 'CONFLICT', 'the username ada is taken: choose another'))).toBe(
      'the username ada is taken: choose another',
    );
    expect(errorMessage(new ApiRequestError(400, 'VALIDATION_FAILED', 'invalid request'))).toBe('invalid request');
    expect(errorMessage(new Error('boom'))).toBe('Something went wrong. Try again.');
  });

  it('makes a readable error of an answer without an error body', async () => {
    const { fetch } = recordingFetch(() => new Response('<html>bad gateway</html>', { status: 502 }));
    await expect(new ApiClient({ fetch }).getSettings()).rejects.toMatchObject({ status: 502, code: 'HTTP_502' });
  });

  it('turns a network failure into status 0 NETWORK_ERROR', async () => {
    const fetch = vi.fn(async () => {
      throw new TypeError('fetch failed');
    }) as unknown as typeof globalThis.fetch;
    await expect(new ApiClient({ fetch }).getSession()).rejects.toMatchObject({ status: 0, code: NETWORK_ERROR });
  });

  it('reports a 401 outside /api/auth as a lost session, but not a failed sign-in', async () => {
    const onUnauthorized = vi.fn();
    const { fetch } = recordingFetch(() => json(401, { code: 'UNAUTHENTICATED', message: 'sign in' }));
    const api = new ApiClient({ fetch, onUnauthorized });
    await expect(api.getSettings()).rejects.toMatchObject({ status: 401 });
    expect(onUnauthorized).toHaveBeenCalledTimes(1);

    const failedLogin = recordingFetch(() => json(401, { code: 'INVALID_CREDENTIALS', message: 'wrong password' }));
    const loginApi = new ApiClient({ fetch: failedLogin.fetch, onUnauthorized });
    await expect(loginApi.login({ username: 'ada', password: 'x' })).rejects.toMatchObject({
      code: 'INVALID_CREDENTIALS',
      message: 'wrong password',
    });
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
  });

  describe('workers', () => {
    const task = { id: 't/1', title: 'x' };
    const cases: Array<{
      name: string;
      call: (api: ApiClient) => Promise<unknown>;
      method: string;
      url: string;
      body?: unknown;
    }> = [
      { name: 'listTasks', call: (api) => api.listTasks(), method: 'GET', url: '/api/tasks' },
      {
        name: 'listTasks by status and project',
        call: (api) => api.listTasks({ status: 'failed', projectId: 'p1' }),
        method: 'GET',
        url: '/api/tasks?status=failed&projectId=p1',
      },
      {
        name: 'createTask',
        call: (api) => api.createTask({ title: 'Tidy', prompt: 'Sort it', skipPlan: true }),
        method: 'POST',
        url: '/api/tasks',
        body: { title: 'Tidy', prompt: 'Sort it', skipPlan: true },
      },
      { name: 'getTask', call: (api) => api.getTask('t/1'), method: 'GET', url: '/api/tasks/t%2F1' },
      { name: 'cancelTask', call: (api) => api.cancelTask('t/1'), method: 'POST', url: '/api/tasks/t%2F1/cancel' },
      { name: 'retryTask', call: (api) => api.retryTask('t/1'), method: 'POST', url: '/api/tasks/t%2F1/retry' },
      {
        name: 'decidePlan',
        call: (api) => api.decidePlan('t/1', { decision: 'revise', feedback: 'smaller steps' }),
        method: 'POST',
        url: '/api/tasks/t%2F1/plan',
        body: { decision: 'revise', feedback: 'smaller steps' },
      },
      {
        name: 'decideReview',
        call: (api) => api.decideReview('t/1', { decision: 'approve' }),
        method: 'POST',
        url: '/api/tasks/t%2F1/review',
        body: { decision: 'approve' },
      },
      {
        name: 'getTaskLogs from the start',
        call: (api) => api.getTaskLogs('t/1'),
        method: 'GET',
        url: '/api/tasks/t%2F1/logs',
      },
      {
        name: 'getTaskLogs after a seq (0 included)',
        call: (api) => api.getTaskLogs('t/1', { after: 0, limit: 500 }),
        method: 'GET',
        url: '/api/tasks/t%2F1/logs?after=0&limit=500',
      },
      { name: 'getTaskDiff', call: (api) => api.getTaskDiff('t/1'), method: 'GET', url: '/api/tasks/t%2F1/diff' },
      {
        name: 'listQuestions',
        call: (api) => api.listQuestions({ status: 'open', taskId: 't1' }),
        method: 'GET',
        url: '/api/questions?status=open&taskId=t1',
      },
      {
        name: 'answerQuestion with several options',
        call: (api) => api.answerQuestion('q1', ['S', 'L']),
        method: 'POST',
        url: '/api/questions/q1/answer',
        body: { answer: ['S', 'L'] },
      },
      { name: 'listProjects', call: (api) => api.listProjects(), method: 'GET', url: '/api/projects' },
      {
        name: 'createProject',
        call: (api) => api.createProject({ repo: { kind: 'local', path: '/srv/repo' }, checkCommand: 'npm test' }),
        method: 'POST',
        url: '/api/projects',
        body: { repo: { kind: 'local', path: '/srv/repo' }, checkCommand: 'npm test' },
      },
      {
        name: 'updateProject',
        call: (api) => api.updateProject('p/1', { checkCommand: null }),
        method: 'PATCH',
        url: '/api/projects/p%2F1',
        body: { checkCommand: null },
      },
      { name: 'deleteProject', call: (api) => api.deleteProject('p1'), method: 'DELETE', url: '/api/projects/p1' },
    ];

    it.each(cases)('$name: $method $url', async ({ call, method, url, body }) => {
      const { fetch, calls } = recordingFetch(() => json(200, { task }));
      await expect(call(new ApiClient({ fetch }))).resolves.toEqual({ task });
      expect(calls[0]!.url).toBe(url);
      expect(calls[0]!.init.method).toBe(method);
      expect(calls[0]!.init.body === undefined ? undefined : JSON.parse(String(calls[0]!.init.body))).toEqual(body);
    });

    it('asks for the diff as JSON, not the text/plain default', async () => {
      const { fetch, calls } = recordingFetch(() => json(200, { base: 'a', head: 'b', files: [] }));
      await new ApiClient({ fetch }).getTaskDiff('t1');
      expect((calls[0]!.init.headers as Record<string, string>)['Accept']).toBe('application/json');
    });

    it('passes a conflict through with its message (a decision on a task in another state)', async () => {
      const { fetch } = recordingFetch(() =>
        json(409, { code: 'CONFLICT', message: 'cannot approve the plan: task t1 is implementing' }),
      );
      await expect(new ApiClient({ fetch }).decidePlan('t1', { decision: 'approve' })).rejects.toMatchObject({
        status: 409,
        code: 'CONFLICT',
        message: 'cannot approve the plan: task t1 is implementing',
      });
    });
  });
});
