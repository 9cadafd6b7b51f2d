import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { DiffFile } from '../../contract/tasks.js';
import { git, gitOut, gitScript } from './git.js';

/** The remote name a task's clone gives its project's repository. */
const PROJECT_REMOTE = 'project';
/** The trailer that makes a checkpoint commit idempotent: a step run again finds its commit made. */
const STEP_TRAILER = 'Mainloop-Step';

export interface WorkspacePaths {
  /** the task's checkout: the agent's working directory */
  path: string;
  /** the agent's own HOME (its config, caches, session files) */
  home: string;
}

export interface PreparedWorkspace {
  branch: string;
  /** the commit the task starts from (its diff is against this) */
  baseCommit: string;
  /** the branch the work is merged into */
  baseBranch: string;
}

export interface ProjectCheckout {
  /** the project's local repository */
  repoPath: string;
  defaultBranch: string;
}

/** A repository with one empty commit on `main`, as files (`.git`'s, but for HEAD and the reflogs). */
interface ScratchTemplate {
  base: string;
  files: Array<{ path: string; content: Buffer | string; mode: number }>;
}

export type MergeResult =
  | { merged: true; commit: string }
  | { merged: false; conflict: true; files: string[] }
  | { merged: false; conflict: false; reason: string };

/**
 * Each task's workspace: a git clone of its project (or a fresh repository for a task without
 * one) under `<data dir>/workspaces/<task id>`, on the task's own branch `mainloop/<short id>-<slug>`,
 * with a HOME of its own under `<data dir>/homes/<task id>`.
 *
 * A clone (`--shared`: objects are borrowed from the project, nothing is copied) rather than a
 * worktree: the clone's `.git` is inside the workspace, so the sandbox can leave the agent write
 * access there and nowhere in the person's repository. The branch reaches the project with
 * `publish`; `merge` brings it into the project's default branch.
 */
export class WorkspaceManager {
  private scratchTemplate: Promise<ScratchTemplate | undefined> | undefined;

  constructor(private readonly options: { dataDir: string }) {}

  paths(taskId: string): WorkspacePaths {
    return {
      path: path.join(this.options.dataDir, 'workspaces', taskId),
      home: path.join(this.options.dataDir, 'homes', taskId),
    };
  }

  /** Creates the workspace, or finds the one a previous run of this step created. */
  async prepare(task: { id: string; title: string }, project: ProjectCheckout | undefined): Promise<PreparedWorkspace> {
    const { path: dir, home } = this.paths(task.id);
    const branch = branchName(task.id, task.title);
    await mkdir(home, { recursive: true });
    if (await isGitRepository(dir)) {
      // A crash between creating it and checkpointing the step: pick it up as it is.
      const baseBranch = project?.defaultBranch ?? 'main';
      const baseCommit = await gitOut(dir, [
        'merge-base',
        'HEAD',
        project ? `${PROJECT_REMOTE}/${baseBranch}` : baseBranch,
      ]);
      await git(dir, ['checkout', '-B', branch]);
      return { branch, baseCommit, baseBranch };
    }
    await rm(dir, { recursive: true, force: true });
    await mkdir(path.dirname(dir), { recursive: true });
    // Each way is one script (one process started by the server); its last line is the base commit.
    if (project) {
      const cloned = await gitScript(
        path.dirname(dir),
        'clone',
        `set -e
git clone --quiet --shared --no-checkout --origin "$1" --branch "$2" "$3" "$4"
cd "$4"
git checkout --quiet -b "$5" "$1/$2"
git rev-parse HEAD`,
        [PROJECT_REMOTE, project.defaultBranch, project.repoPath, dir, branch],
      );
      return { branch, baseCommit: lastLine(cloned.stdout), baseBranch: project.defaultBranch };
    }
    const written = await this.writeScratchWorkspace(dir, branch);
    if (written) return { branch, baseCommit: written, baseBranch: 'main' };
    await mkdir(dir, { recursive: true });
    const created = await gitScript(
      dir,
      'init',
      `set -e
git init --quiet --initial-branch "$1"
git commit --quiet --allow-empty -m 'mainloop: a scratch workspace'
git branch main
git rev-parse HEAD`,
      [branch],
    );
    return { branch, baseCommit: lastLine(created.stdout), baseBranch: 'main' };
  }

  /**
   * A scratch workspace written from the files of a template repository (one empty commit on
   * `main`) that git made once in this process: no process per task, a few writes at once. It is
   * written beside the workspace and renamed into place, so a crash leaves no half-made one.
   * Undefined when the template's refs are not files (as with the reftable format): git makes
   * the workspace then.
   */
  private async writeScratchWorkspace(dir: string, branch: string): Promise<string | undefined> {
    const template = await (this.scratchTemplate ??= this.makeScratchTemplate().catch(() => undefined));
    if (!template) return undefined;
    const making = `${dir}.making`;
    await rm(making, { recursive: true, force: true });
    const files = [
      ...template.files,
      { path: 'HEAD', content: `ref: refs/heads/${branch}\n`, mode: 0o644 },
      { path: `refs/heads/${branch}`, content: `${template.base}\n`, mode: 0o644 },
    ].map((file) => ({ ...file, path: path.join(making, '.git', file.path) }));
    const dirs = new Set([...files.map((file) => path.dirname(file.path)), path.join(making, '.git', 'refs', 'tags')]);
    await Promise.all([...dirs].map((each) => mkdir(each, { recursive: true })));
    await Promise.all(files.map((file) => writeFile(file.path, file.content, { mode: file.mode })));
    await rename(making, dir);
    return template.base;
  }

  /** The scratch template (see writeScratchWorkspace): made by git in a directory of its own, read, removed. */
  private async makeScratchTemplate(): Promise<ScratchTemplate | undefined> {
    const dir = path.join(this.options.dataDir, 'workspaces', '.scratch-template');
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    try {
      await gitScript(
        dir,
        'init',
        `set -e
git init --quiet --template= --initial-branch main
git commit --quiet --allow-empty -m 'mainloop: a scratch workspace'`,
      );
      const gitDir = path.join(dir, '.git');
      const base = (await readFile(path.join(gitDir, 'refs', 'heads', 'main'), 'utf8').catch(() => '')).trim();
      if (!/^[0-9a-f]{40,64}$/.test(base)) return undefined;
      const files: ScratchTemplate['files'] = [];
      for (const entry of await readdir(gitDir, { recursive: true, withFileTypes: true })) {
        const file = path.relative(gitDir, path.join(entry.parentPath, entry.name));
        // The reflogs and the last commit message are the template's own; HEAD is the task's.
        if (!entry.isFile() || ['HEAD', 'COMMIT_EDITMSG'].includes(file) || file.startsWith('logs')) continue;
        const full = path.join(gitDir, file);
        const [content, info] = await Promise.all([readFile(full), stat(full)]);
        files.push({ path: file, content, mode: info.mode & 0o777 });
      }
      return { base, files };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async exists(taskId: string): Promise<boolean> {
    return isGitRepository(this.paths(taskId).path);
  }

  /** Back to the last checkpoint: what a step that runs again must start from. */
  async reset(taskId: string): Promise<void> {
    await gitScript(this.paths(taskId).path, 'reset', 'set -e\ngit reset --hard --quiet HEAD\ngit clean -fd --quiet');
  }

  /**
   * Commits everything in the workspace as one checkpoint, once per `key`: when HEAD already is
   * this key's commit (the step ran, then the process died before it was recorded) it is returned.
   */
  async commit(taskId: string, key: string, message: string): Promise<{ commit: string; changed: boolean }> {
    // One script. A clean workspace (most often after a run that changed nothing, or when this
    // key's commit was made and the step runs again) costs one git process: `same` with HEAD.
    // Else `same` when HEAD is this key's commit or nothing is left to commit once added, or the
    // new commit.
    const result = await gitScript(
      this.paths(taskId).path,
      'commit',
      `set -e
nl='
'
status=$(git status --porcelain=v2 --branch)
head=\${status#*"# branch.oid "}
head=\${head%%"$nl"*}
case "$nl$status" in *"$nl"[!#]*) ;; *) echo "same $head"; exit 0 ;; esac
message=$(git log -1 --format=%B)
case "$nl$message$nl" in *"$nl$1$nl"*) echo "same $head"; exit 0 ;; esac
git add --all
if git diff --cached --quiet; then echo "same $head"; exit 0; fi
git commit --quiet --no-verify -m "$2" -m "$1"
echo "new $(git rev-parse HEAD)"`,
      [`${STEP_TRAILER}: ${key}`, message],
    );
    const [state, commit = ''] = lastLine(result.stdout).split(' ');
    return { commit, changed: state === 'new' };
  }

  async head(taskId: string): Promise<string> {
    return gitOut(this.paths(taskId).path, ['rev-parse', 'HEAD']);
  }

  /** The unified diff of the task's branch against its base. */
  async diffText(taskId: string, base: string): Promise<string> {
    return (await git(this.paths(taskId).path, ['diff', '--no-color', '--no-ext-diff', `${base}..HEAD`])).stdout;
  }

  /** The task's change, file by file; `withPatch: false` leaves the patches out (a summary). */
  async diffFiles(taskId: string, base: string, options: { withPatch?: boolean } = {}): Promise<DiffFile[]> {
    const dir = this.paths(taskId).path;
    const numstat = await gitOut(dir, ['diff', '--numstat', '-z', '--no-renames', `${base}..HEAD`]);
    const files: DiffFile[] = [];
    for (const record of numstat.split('\0').filter(Boolean)) {
      const [added = '0', deleted = '0', ...rest] = record.split('\t');
      const file = rest.join('\t');
      const patch =
        options.withPatch === false
          ? ''
          : (await git(dir, ['diff', '--no-color', '--no-ext-diff', '--no-renames', `${base}..HEAD`, '--', file]))
              .stdout;
      // Binary files show "-" in numstat.
      files.push({ path: file, additions: Number(added) || 0, deletions: Number(deleted) || 0, patch });
    }
    return files;
  }

  /** Puts the task's branch into the project's repository (where it stays after the workspace is gone). */
  async publish(taskId: string, branch: string): Promise<void> {
    await git(this.paths(taskId).path, ['push', '--quiet', '--force', PROJECT_REMOTE, `HEAD:refs/heads/${branch}`]);
  }

  /**
   * Merges the task's branch into the project's default branch: a merge commit made without
   * touching any checkout (`git merge-tree`), then the default branch moved to it — fast-forward
   * only, and in the person's checkout when that branch is checked out there (refused, not forced,
   * when their uncommitted changes are in the way).
   */
  async merge(taskId: string, project: ProjectCheckout, branch: string, title: string): Promise<MergeResult> {
    const dir = this.paths(taskId).path;
    const target = project.defaultBranch;
    await git(dir, [
      'fetch',
      '--quiet',
      PROJECT_REMOTE,
      `+refs/heads/${target}:refs/remotes/${PROJECT_REMOTE}/${target}`,
    ]);
    const upstream = await gitOut(dir, ['rev-parse', `${PROJECT_REMOTE}/${target}`]);
    const head = await gitOut(dir, ['rev-parse', 'HEAD']);
    if ((await git(dir, ['merge-base', '--is-ancestor', head, upstream], { allowFailure: true })).code === 0) {
      return { merged: true, commit: upstream }; // merged already (a step run again)
    }
    const tree = await git(dir, ['merge-tree', '--write-tree', '--name-only', '--no-messages', upstream, head], {
      allowFailure: true,
    });
    if (tree.code === 1) {
      const [, ...files] = tree.stdout.trim().split('\n');
      return { merged: false, conflict: true, files: files.filter(Boolean) };
    }
    if (tree.code !== 0)
      return { merged: false, conflict: false, reason: tree.stderr.trim() || 'git merge-tree failed' };
    const treeId = tree.stdout.trim().split('\n')[0]!;
    const commit = await gitOut(dir, [
      'commit-tree',
      treeId,
      '-p',
      upstream,
      '-p',
      head,
      '-m',
      `Merge ${branch}: ${title}`,
    ]);
    // The commit goes to the project first (a ref of mainloop's own), then the branch moves to it.
    await git(dir, ['push', '--quiet', '--force', PROJECT_REMOTE, `${commit}:refs/mainloop/merges/${taskId}`]);
    const checkout = await checkedOutAt(project.repoPath, target);
    if (checkout) {
      const dirty = await gitOut(checkout, ['status', '--porcelain', '--untracked-files=no']);
      if (dirty) {
        return {
          merged: false,
          conflict: false,
          reason: `${target} is checked out at ${checkout} with uncommitted changes; commit or stash them, then approve again`,
        };
      }
      const merged = await git(checkout, ['merge', '--ff-only', '--quiet', commit], { allowFailure: true });
      if (merged.code !== 0) {
        return { merged: false, conflict: false, reason: `could not fast-forward ${target}: ${merged.stderr.trim()}` };
      }
    } else {
      const pushed = await git(dir, ['push', '--quiet', PROJECT_REMOTE, `${commit}:refs/heads/${target}`], {
        allowFailure: true,
      });
      if (pushed.code !== 0) {
        return { merged: false, conflict: false, reason: `${target} moved while merging; approve again` };
      }
    }
    await git(project.repoPath, ['update-ref', '-d', `refs/mainloop/merges/${taskId}`], { allowFailure: true });
    return { merged: true, commit };
  }

  /** Removes the checkout and the HOME; the branch stays in the project (published) or is gone with a scratch one. */
  async remove(taskId: string): Promise<void> {
    const { path: dir, home } = this.paths(taskId);
    await rm(dir, { recursive: true, force: true });
    await rm(home, { recursive: true, force: true });
  }
}

function lastLine(output: string): string {
  return output.trim().split('\n').at(-1) ?? '';
}

/** `mainloop/<first 8 of the id>-<a slug of the title>` */
export function branchName(taskId: string, title: string): string {
  const slug = title
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '');
  const short = taskId
    .replace(/[^A-Za-z0-9]/g, '')
    .slice(0, 8)
    .toLowerCase();
  return `mainloop/${short}${slug ? `-${slug}` : ''}`;
}

async function isGitRepository(dir: string): Promise<boolean> {
  try {
    await stat(path.join(dir, '.git'));
    return true;
  } catch {
    return false;
  }
}

/** Where `branch` is checked out in the repository's worktrees (the main one included), if anywhere. */
async function checkedOutAt(repoPath: string, branch: string): Promise<string | undefined> {
  const list = await gitOut(repoPath, ['worktree', 'list', '--porcelain']);
  let current: string | undefined;
  for (const line of list.split('\n')) {
    if (line.startsWith('worktree ')) current = line.slice('worktree '.length);
    else if (line === `branch refs/heads/${branch}` && current) return current;
  }
  return undefined;
}

/** Whether `dir` is the top of a git repository with at least one commit; its current branch. */
export async function inspectRepository(
  dir: string,
): Promise<{ ok: true; branch: string } | { ok: false; reason: string }> {
  try {
    const top = await gitOut(dir, ['rev-parse', '--show-toplevel']);
    if (path.resolve(top) !== path.resolve(dir))
      return { ok: false, reason: `${dir} is inside the repository ${top}; give its top` };
    const head = await git(dir, ['rev-parse', '--verify', '--quiet', 'HEAD'], { allowFailure: true });
    if (head.code !== 0) return { ok: false, reason: `${dir} has no commits yet` };
    const branch = await git(dir, ['symbolic-ref', '--quiet', '--short', 'HEAD'], { allowFailure: true });
    return { ok: true, branch: branch.code === 0 ? branch.stdout.trim() : 'main' };
  } catch {
    return { ok: false, reason: `${dir} is not a git repository` };
  }
}

/** Whether the repository has `branch`. */
export async function hasBranch(repoPath: string, branch: string): Promise<boolean> {
  const result = await git(repoPath, ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`], {
    allowFailure: true,
  });
  return result.code === 0;
}
