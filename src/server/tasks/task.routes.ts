import { CreateTaskRequest, ListTasksQuery, TaskIdParams, TaskList, TaskResponse } from '../../contract/tasks.js';
import type { RoutePlugin } from '../http/app.js';
import { principalOf } from '../http/request-context.js';
import type { TaskService } from './task.service.js';

/** POST /api/tasks · GET /api/tasks · GET /api/tasks/:id */
export function taskRoutes(tasks: TaskService): RoutePlugin {
  return (api) => {
    api.post(
      '/tasks',
      {
        schema: {
          tags: ['tasks'],
          summary: 'Create a task: stored as queued (runtime claude-code unless named; a command task needs `command`)',
          body: CreateTaskRequest,
          response: { 201: TaskResponse },
        },
      },
      async (request, reply) =>
        reply.status(201).send({ task: await tasks.create(principalOf(request).userId, request.body) }),
    );

    api.get(
      '/tasks',
      {
        schema: {
          tags: ['tasks'],
          summary: 'Your tasks, newest first, optionally by status or project',
          querystring: ListTasksQuery,
          response: { 200: TaskList },
        },
      },
      async (request) => ({ tasks: await tasks.list(principalOf(request).userId, request.query) }),
    );

    api.get(
      '/tasks/:id',
      {
        schema: { tags: ['tasks'], summary: 'One task', params: TaskIdParams, response: { 200: TaskResponse } },
      },
      async (request) => ({ task: await tasks.get(principalOf(request).userId, request.params.id) }),
    );
  };
}
