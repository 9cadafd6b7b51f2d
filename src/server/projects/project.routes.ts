import {
  CreateProjectRequest,
  InspectProjectQuery,
  ProjectIdParams,
  ProjectInspection,
  ProjectList,
  ProjectResponse,
  UpdateProjectRequest,
} from '../../contract/projects.js';
import type { RoutePlugin } from '../http/app.js';
import { principalOf } from '../http/request-context.js';
import type { ProjectService } from './project.service.js';

/** GET|POST /api/projects · GET|PATCH|DELETE /api/projects/:id */
export function projectRoutes(projects: ProjectService): RoutePlugin {
  return (api) => {
    const tags = ['projects'];
    api.get(
      '/projects',
      { schema: { tags, summary: 'Your projects', response: { 200: ProjectList } } },
      async (request) => ({
        projects: await projects.list(principalOf(request).userId),
      }),
    );
    api.post(
      '/projects',
      {
        schema: {
          tags,
          summary: 'Add a project: a local git repository (its default branch is read from it when not given)',
          body: CreateProjectRequest,
          response: { 201: ProjectResponse },
        },
      },
      async (request, reply) =>
        reply.status(201).send({ project: await projects.create(principalOf(request).userId, request.body) }),
    );
    api.get(
      '/projects/inspect',
      {
        schema: {
          tags,
          summary:
            'What adding the local repository at `path` would suggest: the check command its build files name (the owner only)',
          querystring: InspectProjectQuery,
          response: { 200: ProjectInspection },
        },
      },
      async (request) => projects.inspect(principalOf(request), request.query.path),
    );
    api.get(
      '/projects/:id',
      { schema: { tags, summary: 'One project', params: ProjectIdParams, response: { 200: ProjectResponse } } },
      async (request) => ({ project: await projects.get(principalOf(request).userId, request.params.id) }),
    );
    api.patch(
      '/projects/:id',
      {
        schema: {
          tags,
          summary: 'Rename a project, change its default branch or check command',
          params: ProjectIdParams,
          body: UpdateProjectRequest,
          response: { 200: ProjectResponse },
        },
      },
      async (request) => ({
        project: await projects.update(principalOf(request).userId, request.params.id, request.body),
      }),
    );
    api.delete(
      '/projects/:id',
      { schema: { tags, summary: 'Remove a project (its tasks and branches stay)', params: ProjectIdParams } },
      async (request, reply) => {
        await projects.delete(principalOf(request).userId, request.params.id);
        return reply.status(204).send();
      },
    );
  };
}
