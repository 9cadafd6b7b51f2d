import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Question } from '../../contract/questions.js';
import type { LogEntry, Task } from '../../contract/tasks.js';
import {
  anthropicScenario,
  FakeAnthropicApi,
  type AnthropicMessagesRequest,
} from '../../../test/fakes/anthropic-api.js';
import { startTestServer, type TestServer } from '../../../test/support/server.js';
import { git, makeRepository, ownerApi } from '../../../test/support/tasks.js';

/**
 * A whole task through the product: the task workflow, the real claude-code runtime, the Agent
 * SDK and the Claude Code CLI it bundles (in bubblewrap where the machine has it), against a
 * scripted model (the fake Anthropic Messages API). The agent plans, asks, writes a script that
 * fails the project's checks, fixes it, and its branch is merged on approval.
 */
const TIMEOUT = 180_000;

let fake: FakeAnthropicApi;
let server: TestServer;
let repo: string;
let projectId: string;

beforeAll(async () => {
  fake = await FakeAnthropicApi.start();
  server = await startTestServer({
    env: {
      MAINLOOP_MODEL_PROVIDER: 'none',
      ANTHROPIC_API_KEY: fake.apiKey,
      ANTHROPIC_BASE_URL: fake.url,
    },
  });
  repo = await makeRepository({ prefix: 'ml-e2e-project-' });
  const created = await api('POST', '/api/projects', {
    name: 'greeter',
    repo: { kind: 'local', path: repo },
    checkCommand: 'sh greet.sh | grep -q hello',
  });
  expect(created.statusCode, created.body).toBe(201);
  projectId = created.json().project.id;
}, 60_000);
afterAll(async () => {
  await server?.close();
  await fake?.close();
});

describe('a claude-code task, end to end', () => {
  it(
    'plans, asks, implements, fails the checks, fixes them, and is merged on approval',
    async () => {
      const task = await createTask({ title: 'Add a greeting', prompt: 'Add greet.sh that greets.', projectId });
      const workspace = path.join(server.dataDir, 'workspaces', task.id);

      // Planning, read-only: the plan file, then ExitPlanMode.
      fake.enqueue(
        (body) =>
          anthropicScenario.toolCall({
            name: 'Write',
            input: { file_path: planFileOf(body), content: '# Plan\n\n1. Write greet.sh\n2. Make it say hello' },
          }),
        anthropicScenario.toolCall({ name: 'ExitPlanMode', input: {}, text: ['Here is my plan.'] }),
      );
      const planned = await waitForTask(task.id, (t) => t.status === 'awaiting_plan_approval');
      expect(planned.plan).toContain('1. Write greet.sh');
      expect(git(workspace, 'status', '--porcelain')).toBe('');

      // Implementing: first a question.
      fake.enqueue(
        anthropicScenario.toolCall({
          name: 'AskUserQuestion',
          input: {
            questions: [
              {
                header: 'Greeting',
                question: 'Which greeting?',
                options: [
                  { label: 'hello', description: 'plain' },
                  { label: 'howdy', description: 'friendly' },
                ],
                multiSelect: false,
              },
            ],
          },
        }),
      );
      await api('POST', `/api/tasks/${task.id}/plan`, { decision: 'approve' });
      await waitForTask(task.id, (t) => t.needsInput);
      const [question] = (await api('GET', `/api/questions?status=open&taskId=${task.id}`)).json()
        .questions as Question[];
      expect(question).toMatchObject({ header: 'Greeting', text: 'Which greeting?', multiSelect: false });

      // The answer resumes the same session; the first script fails the checks, the fix passes.
      fake.enqueue(
        (body) => {
          expect(JSON.stringify(body.messages)).toContain('Which greeting?');
          return anthropicScenario.toolCall({
            name: 'Write',
            input: { file_path: path.join(workspace, 'greet.sh'), content: 'echo bye\n' },
          });
        },
        anthropicScenario.text('Wrote greet.sh.'),
        (body) => {
          expect(JSON.stringify(body.messages)).toContain('checks failed');
          return anthropicScenario.toolCall({
            name: 'Edit',
            input: { file_path: path.join(workspace, 'greet.sh'), old_string: 'echo bye', new_string: 'echo hello' },
          });
        },
        anthropicScenario.text('It now says hello.'),
      );
      await api('POST', `/api/questions/${question!.id}/answer`, { answer: 'hello' });
      const review = await waitForTask(task.id, (t) => t.status === 'awaiting_review');
      expect(review.review).toMatchObject({
        files: [{ path: 'greet.sh', additions: 1, deletions: 0 }],
        checks: { command: 'sh greet.sh | grep -q hello', passed: true, rounds: 2 },
        summary: 'It now says hello.',
      });
      expect(review.usage?.inputTokens).toBeGreaterThan(0);
      expect(fake.pending).toBe(0);

      const logs = (await api('GET', `/api/tasks/${task.id}/logs?limit=1000`)).json().entries as LogEntry[];
      const kinds = new Set(logs.map((entry) => entry.kind));
      for (const kind of ['system', 'agent', 'tool', 'tool_result'] as const) expect(kinds).toContain(kind);

      await api('POST', `/api/tasks/${task.id}/review`, { decision: 'approve' });
      await waitForTask(task.id, (t) => t.status === 'completed');
      expect(await readFile(path.join(repo, 'greet.sh'), 'utf8')).toBe('echo hello\n');
      expect(git(repo, 'branch', '--list', 'mainloop/*')).toContain(review.branch!);
    },
    TIMEOUT,
  );
});

const api = (method: 'GET' | 'POST', url: string, payload?: object) => ownerApi(server).call(method, url, payload);
const createTask = (spec: object) => ownerApi(server).createTask(spec);
const waitForTask = (id: string, done: (task: Task) => boolean) =>
  ownerApi(server).waitForTask(id, done, { timeout: 90_000, failFast: true });

function planFileOf(body: AnthropicMessagesRequest): string {
  const file = /create your plan at (\S+?\.md)/.exec(JSON.stringify(body.messages))?.[1];
  if (!file) throw new Error('the plan-mode instructions name no plan file');
  return file;
}
