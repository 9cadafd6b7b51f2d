import path from 'node:path';
import type {
  CreateProjectRequest,
  Project,
  ProjectInspection,
  UpdateProjectRequest,
} from '../../contract/projects.js';
import type { Db } from '../db/database.js';
import { DomainError, notFound } from '../errors.js';
import type { Clock } from '../lib/clock.js';
import type { Ids } from '../lib/ids.js';
import { hasBranch, inspectRepository } from '../git/index.js';
import { suggestCheckCommand } from './check-command.js';
import type { ProjectRepository } from './project.repository.js';

export interface ProjectServiceDeps {
  db: Db;
  projects: ProjectRepository;
  clock: Clock;
  ids: Ids;
}

/**
 * The repositories tasks work on. A local project is a git repository on this machine: its path
 * is checked (a repository's top, with a commit, and the default branch present) when it is added.
 * GitHub projects arrive with issue 7.
 */
export class ProjectService {
  constructor(private readonly deps: ProjectServiceDeps) {}

  async create(userId: string, request: CreateProjectRequest): Promise<Project> {
    const { db, projects, clock, ids } = this.deps;
    if (request.repo.kind !== 'local') {
      throw new DomainError(
        'VALIDATION_FAILED',
        'GitHub projects are not supported yet: add a local repository (repo.kind "local")',
        {
          details: { issues: [{ path: 'repo.kind', message: 'only "local" is supported for now' }] },
        },
      );
    }
    const repoPath = path.resolve(request.repo.path);
    const inspected = await inspectRepository(repoPath);
    if (!inspected.ok) throw invalid('repo.path', inspected.reason);
    const defaultBranch = request.defaultBranch ?? inspected.branch;
    if (!(await hasBranch(repoPath, defaultBranch))) {
      throw invalid('defaultBranch', `the repository has no branch ${defaultBranch}`);
    }
    const name = request.name ?? path.basename(repoPath);
    const project = await projects.insert(db, {
      id: ids.id(),
      userId,
      name,
      repo: { kind: 'local', path: repoPath },
      defaultBranch,
      checkCommand: request.checkCommand,
      allowNetwork: request.allowNetwork,
      at: clock.now(),
    });
    if (!project) throw new DomainError('CONFLICT', `you already have a project named “${name}”; pick another name`);
    return project;
  }

  /**
   * What adding the repository at `repoPath` would suggest: its check command, read from its build
   * files. It reads this machine's files, so only its owner may ask (for anyone else it does not
   * exist), and it tells only the command and which file said so, never what the files hold.
   */
  async inspect(asker: { isOwner: boolean }, repoPath: string): Promise<ProjectInspection> {
    if (!asker.isOwner) throw notFound('project inspection');
    const suggestion = await suggestCheckCommand(path.resolve(repoPath));
    return { checkCommand: suggestion ?? null };
  }

  async list(userId: string): Promise<Project[]> {
    return this.deps.projects.list(this.deps.db, userId);
  }

  async find(userId: string, id: string): Promise<Project | undefined> {
    return this.deps.projects.find(this.deps.db, userId, id);
  }

  async exists(userId: string, id: string): Promise<boolean> {
    return !!(await this.find(userId, id));
  }

  async get(userId: string, id: string): Promise<Project> {
    const project = await this.find(userId, id);
    if (!project) throw notFound(`project ${id}`);
    return project;
  }

  async update(userId: string, id: string, changes: UpdateProjectRequest): Promise<Project> {
    const { db, projects, clock } = this.deps;
    const current = await this.get(userId, id);
    if (
      changes.defaultBranch &&
      current.repo.kind === 'local' &&
      !(await hasBranch(current.repo.path, changes.defaultBranch))
    ) {
      throw invalid('defaultBranch', `the repository has no branch ${changes.defaultBranch}`);
    }
    try {
      const updated = await projects.update(db, userId, id, changes, clock.now());
      if (!updated) throw notFound(`project ${id}`);
      return updated;
    } catch (error) {
      if ((error as { code?: string }).code === '23505') {
        throw new DomainError('CONFLICT', `you already have a project named “${changes.name}”; pick another name`);
      }
      throw error;
    }
  }

  /** Tasks keep their project id (their branches stay in the repository); new tasks cannot name it. */
  async delete(userId: string, id: string): Promise<void> {
    if (!(await this.deps.projects.delete(this.deps.db, userId, id))) throw notFound(`project ${id}`);
  }

  /** The projects as a few lines for the main thread's system prompt. */
  async describe(userId: string): Promise<string | undefined> {
    const projects = await this.list(userId);
    if (!projects.length) return undefined;
    return projects
      .map((project) => {
        const where =
          project.repo.kind === 'local' ? project.repo.path : `github ${project.repo.owner}/${project.repo.name}`;
        const check = project.checkCommand ? `, checks: \`${project.checkCommand}\`` : '';
        return `- ${project.name} (projectId ${project.id}): ${where}, branch ${project.defaultBranch}${check}`;
      })
      .join('\n');
  }
}

function invalid(field: string, message: string): DomainError {
  return new DomainError('VALIDATION_FAILED', `${field}: ${message}`, {
    details: { issues: [{ path: field, message }] },
  });
}
