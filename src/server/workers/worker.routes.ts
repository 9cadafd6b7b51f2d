import { z } from 'zod';
import {
  AnswerRequest,
  ListQuestionsQuery,
  QuestionIdParams,
  QuestionList,
  QuestionResponse,
} from '../../contract/questions.js';
import {
  PlanDecisionRequest,
  ReviewDecisionRequest,
  TaskDiffResponse,
  TaskIdParams,
  TaskLogsQuery,
  TaskLogsResponse,
  TaskResponse,
} from '../../contract/tasks.js';
import type { RoutePlugin } from '../http/app.js';
import { principalOf } from '../http/request-context.js';
import type { TaskService } from '../tasks/index.js';
import type { WorkerService } from './worker.service.js';

/**
 * A task's life after it is created: cancel, retry, the plan and review decisions, its logs and
 * diff; and the questions workers ask.
 */
export function workerRoutes(workers: WorkerService, tasks: TaskService): RoutePlugin {
  return (api) => {
    const tags = ['tasks'];
    api.post(
      '/tasks/:id/cancel',
      {
        schema: {
          tags,
          summary: 'Cancel a task: its agent is stopped, its workspace removed (a project’s branch is kept)',
          params: TaskIdParams,
          response: { 200: TaskResponse },
        },
      },
      async (request) => ({ task: await tasks.cancel(principalOf(request).userId, request.params.id) }),
    );
    api.post(
      '/tasks/:id/retry',
      {
        schema: {
          tags,
          summary: 'Retry a failed task from its last completed step (attempt + 1)',
          params: TaskIdParams,
          response: { 200: TaskResponse },
        },
      },
      async (request) => ({ task: await workers.retry(principalOf(request).userId, request.params.id) }),
    );
    api.post(
      '/tasks/:id/plan',
      {
        schema: {
          tags,
          summary: 'Approve the plan, or revise it with feedback (the agent plans again)',
          params: TaskIdParams,
          body: PlanDecisionRequest,
          response: { 200: TaskResponse },
        },
      },
      async (request) => ({
        task: await workers.decidePlan(principalOf(request).userId, request.params.id, request.body),
      }),
    );
    api.post(
      '/tasks/:id/review',
      {
        schema: {
          tags,
          summary: 'Approve the work (merged into the project’s default branch), or request changes with feedback',
          params: TaskIdParams,
          body: ReviewDecisionRequest,
          response: { 200: TaskResponse },
        },
      },
      async (request) => ({
        task: await workers.decideReview(principalOf(request).userId, request.params.id, request.body),
      }),
    );
    api.get(
      '/tasks/:id/logs',
      {
        schema: {
          tags,
          summary: 'The task’s log after `after` (a seq), oldest first',
          params: TaskIdParams,
          querystring: TaskLogsQuery,
          response: { 200: TaskLogsResponse },
        },
      },
      async (request) =>
        workers.logs(principalOf(request).userId, request.params.id, request.query.after, request.query.limit),
    );
    api.get(
      '/tasks/:id/diff',
      {
        schema: {
          tags,
          summary:
            'The task’s changes against its base: a unified diff (text/plain), or files with patches as JSON with Accept: application/json',
          params: TaskIdParams,
          response: { 200: z.union([TaskDiffResponse, z.string()]) },
        },
      },
      async (request, reply) => {
        const diff = await workers.diff(principalOf(request).userId, request.params.id);
        if (wantsJson(request.headers.accept)) {
          return { base: diff.base, head: diff.head, files: diff.files };
        }
        return reply.type('text/plain; charset=utf-8').send(await diff.text());
      },
    );

    const questionTags = ['questions'];
    api.get(
      '/questions',
      {
        schema: {
          tags: questionTags,
          summary: 'Questions your workers asked, oldest first (e.g. ?status=open)',
          querystring: ListQuestionsQuery,
          response: { 200: QuestionList },
        },
      },
      async (request) => ({ questions: await workers.listQuestions(principalOf(request).userId, request.query) }),
    );
    api.post(
      '/questions/:id/answer',
      {
        schema: {
          tags: questionTags,
          summary: 'Answer a question: an option’s label, labels for a multi-select, or your own words',
          params: QuestionIdParams,
          body: AnswerRequest,
          response: { 200: QuestionResponse },
        },
      },
      async (request) => ({
        question: await workers.answer(principalOf(request).userId, request.params.id, request.body),
      }),
    );
  };
}

/** JSON when the client asks for it (and not for text/plain first); text otherwise. */
function wantsJson(accept: string | undefined): boolean {
  if (!accept) return false;
  const json = accept.indexOf('application/json');
  const text = accept.indexOf('text/plain');
  return json >= 0 && (text < 0 || json < text);
}
