import { z } from 'zod';

export const LocalRepo = z.object({
  kind: z.literal('local'),
  /** an absolute path to a git repository on the server's machine */
  path: z
    .string()
    .trim()
    .min(1, 'path is required')
    .refine((value) => value.startsWith('/'), 'path must be absolute'),
});
/** issue 7 brings GitHub projects; the shape is fixed by API.md already */
export const GithubRepo = z.object({ kind: z.literal('github'), owner: z.string().min(1), name: z.string().min(1) });
export const ProjectRepo = z.discriminatedUnion('kind', [LocalRepo, GithubRepo]);
export type ProjectRepo = z.infer<typeof ProjectRepo>;

export const Project = z.object({
  id: z.string(),
  name: z.string(),
  repo: ProjectRepo,
  defaultBranch: z.string(),
  checkCommand: z.string().optional(),
  /** whether its tasks (commands, checks, agents) may reach the internet; without it, commands and checks have no network and agents reach only their model API */
  allowNetwork: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Project = z.infer<typeof Project>;

const ProjectName = z.string().trim().min(1, 'name is required').max(100, 'name is at most 100 characters');
const BranchName = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9._/-]+$/, 'defaultBranch may hold letters, digits, ".", "_", "/" and "-"');
const CheckCommand = z.string().trim().min(1).max(10_000);

/** POST /api/projects: defaultBranch is read from the repository when left out. */
export const CreateProjectRequest = z.object({
  name: ProjectName.optional(),
  repo: ProjectRepo,
  defaultBranch: BranchName.optional(),
  checkCommand: CheckCommand.optional(),
  allowNetwork: z.boolean().optional(),
});
export type CreateProjectRequest = z.infer<typeof CreateProjectRequest>;

/** PATCH /api/projects/:id: `checkCommand: null` removes it. */
export const UpdateProjectRequest = z.object({
  name: ProjectName.optional(),
  defaultBranch: BranchName.optional(),
  checkCommand: CheckCommand.nullable().optional(),
  allowNetwork: z.boolean().optional(),
});
export type UpdateProjectRequest = z.infer<typeof UpdateProjectRequest>;

/** GET /api/projects/inspect?path=: what adding the repository at `path` would suggest (the owner only). */
export const InspectProjectQuery = z.object({ path: LocalRepo.shape.path });
export const ProjectInspection = z.object({
  /** the command that most likely checks a change, read from the repository's build files; null when none says */
  checkCommand: z
    .object({
      command: z.string(),
      /** where it came from, for a person: e.g. "package.json's test script" */
      source: z.string(),
    })
    .nullable(),
});
export type ProjectInspection = z.infer<typeof ProjectInspection>;

export const ProjectIdParams = z.object({ id: z.string().min(1, 'id is required') });
export const ProjectResponse = z.object({ project: Project });
export const ProjectList = z.object({ projects: z.array(Project) });
export type ProjectList = z.infer<typeof ProjectList>;
