import type { Selectable } from 'kysely';
import type { Project, ProjectRepo } from '../../contract/projects.js';
import type { Queryable } from '../db/database.js';
import type { ProjectsTable } from '../db/schema.js';

/** Projects as stored; every query is scoped to one user. */
export class ProjectRepository {
  async insert(
    db: Queryable,
    project: {
      id: string;
      userId: string;
      name: string;
      repo: ProjectRepo;
      defaultBranch: string;
      checkCommand?: string;
      allowNetwork?: boolean;
      at: Date;
    },
  ): Promise<Project | undefined> {
    const row = await db
      .insertInto('projects')
      .values({
        id: project.id,
        user_id: project.userId,
        name: project.name,
        repo: JSON.stringify(project.repo),
        default_branch: project.defaultBranch,
        check_command: project.checkCommand ?? null,
        allow_network: project.allowNetwork ?? false,
        created_at: project.at,
        updated_at: project.at,
      })
      .onConflict((conflict) => conflict.columns(['user_id', 'name']).doNothing())
      .returningAll()
      .executeTakeFirst();
    return row && toProject(row);
  }

  async find(db: Queryable, userId: string, id: string): Promise<Project | undefined> {
    const row = await db
      .selectFrom('projects')
      .selectAll()
      .where('user_id', '=', userId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row && toProject(row);
  }

  async list(db: Queryable, userId: string): Promise<Project[]> {
    const rows = await db.selectFrom('projects').selectAll().where('user_id', '=', userId).orderBy('name').execute();
    return rows.map(toProject);
  }

  async update(
    db: Queryable,
    userId: string,
    id: string,
    changes: { name?: string; defaultBranch?: string; checkCommand?: string | null; allowNetwork?: boolean },
    at: Date,
  ): Promise<Project | undefined> {
    const row = await db
      .updateTable('projects')
      .set({
        ...(changes.name !== undefined ? { name: changes.name } : {}),
        ...(changes.defaultBranch !== undefined ? { default_branch: changes.defaultBranch } : {}),
        ...(changes.checkCommand !== undefined ? { check_command: changes.checkCommand } : {}),
        ...(changes.allowNetwork !== undefined ? { allow_network: changes.allowNetwork } : {}),
        updated_at: at,
      })
      .where('user_id', '=', userId)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    return row && toProject(row);
  }

  async delete(db: Queryable, userId: string, id: string): Promise<boolean> {
    const result = await db
      .deleteFrom('projects')
      .where('user_id', '=', userId)
      .where('id', '=', id)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }
}

function toProject(row: Selectable<ProjectsTable>): Project {
  return {
    id: row.id,
    name: row.name,
    repo: row.repo,
    defaultBranch: row.default_branch,
    ...(row.check_command ? { checkCommand: row.check_command } : {}),
    allowNetwork: row.allow_network,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}
