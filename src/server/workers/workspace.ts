import { chown, lstat, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { DiffFile } from '../../contract/tasks.js';
import {
  git,
  gitOut,
  gitScript,
  taskGit,
  taskGitOut,
  taskGitScript,
  type GitResult,
  type TaskRepository,
} from '../git/index.js';

/** The remote name a task's clone gives its project's repository. */
const PROJECT_REMOTE = 'project';
/** The trailer that makes a checkpoint commit idempotent: a step run again finds its commit made. */
const STEP_TRAILER = 'Mainloop-Step';

export interface WorkspacePaths {
  /** the task's checkout: the agent's working directory */
  path: string;
  /** the agent's own HOME (its config, caches, session files) */
  home: string;
  /** mainloop's git directory of the task's checkout, outside it: the sandbox shows it read-only */
  gitDir: string;
  /** mainloop's own files about the task (a runtime's bookkeeping): the sandbox never shows it */
  state: string;
}

/** Who owns a task's files: the user its processes run as, when that is not the server's (root). */
export interface FileOwner {
  uid: number;
  gid: number;
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
  /** `onto`: the commit it was merged onto (the merge's first parent); unknown when the branch was in already some other way */
  | { merged: true; commit: string; onto?: string }
  | { merged: false; conflict: true; files: string[] }
  | { merged: false; conflict: false; reason: string };

/**
 * Each task's workspace: a git checkout of its project (or of a fresh repository for a task without
 * one) under `<data dir>/workspaces/<task id>`, on the task's own branch `mainloop/<short id>-<slug>`,
 * with a HOME of its own under `<data dir>/homes/<task id>`.
 *
 * The checkout's git directory is not inside it but at `<data dir>/repos/<task id>.git` (the
 * checkout's `.git` is a file naming it), and every git command mainloop runs over the checkout names
 * both (`taskGit`): the sandbox shows that directory to the task read-only, so nothing the task
 * writes — a `.git` of its own, a config, hooks, attributes — is ever read by mainloop's git as
 * config (docs/decisions/0019-task-sandbox.md). It is a clone of the project (objects hard-linked,
 * not borrowed: the sandbox does not show the project). The branch reaches the project with
 * `publish`; `merge` brings it into the project's default branch.
 */
export class WorkspaceManager {
  private scratchTemplate: Promise<ScratchTemplate | undefined> | undefined;

  /** `owner`: who the task's processes run as, when not the server's user (root): its checkout and HOME are theirs. */
  constructor(private readonly options: { dataDir: string; owner?: FileOwner | undefined }) {}

  paths(taskId: string): WorkspacePaths {
    return {
      path: path.join(this.options.dataDir, 'workspaces', taskId),
      home: path.join(this.options.dataDir, 'homes', taskId),
      gitDir: path.join(this.options.dataDir, 'repos', `${taskId}.git`),
      state: path.join(this.options.dataDir, 'task-state', taskId),
    };
  }

  private repository(taskId: string): TaskRepository {
    const { path: workTree, gitDir } = this.paths(taskId);
    return { gitDir, workTree };
  }

  /** Creates the workspace, or finds the one a previous run of this step created. */
  async prepare(task: { id: string; title: string }, project: ProjectCheckout | undefined): Promise<PreparedWorkspace> {
    const { path: dir, home, gitDir } = this.paths(task.id);
    const repo = this.repository(task.id);
    const branch = branchName(task.id, task.title);
    await mkdir(home, { recursive: true });
    await this.own(home);
    if (await this.exists(task.id)) {
      // A crash between creating it and checkpointing the step: pick it up as it is.
      const baseBranch = project?.defaultBranch ?? 'main';
      const baseCommit = await taskGitOut(repo, [
        'merge-base',
        'HEAD',
        project ? `${PROJECT_REMOTE}/${baseBranch}` : baseBranch,
      ]);
      await taskGit(repo, ['checkout', '-B', branch]);
      await this.linkGitDir(task.id);
      return { branch, baseCommit, baseBranch };
    }
    await Promise.all([rm(dir, { recursive: true, force: true }), rm(gitDir, { recursive: true, force: true })]);
    await Promise.all([
      mkdir(path.dirname(dir), { recursive: true }),
      mkdir(path.dirname(gitDir), { recursive: true }),
    ]);
    if (project) {
      // The project is the person's repository: cloning it is git as usual. The checkout is the task's.
      await gitScript(
        path.dirname(dir),
        'clone',
        'git clone --quiet --no-checkout --template= --separate-git-dir "$1" --origin "$2" --branch "$3" "$4" "$5"',
        [gitDir, PROJECT_REMOTE, project.defaultBranch, project.repoPath, dir],
      );
      const checkedOut = await taskGitScript(
        repo,
        'checkout',
        `set -e
git checkout --quiet -b "$1" "$2/$3"
git rev-parse HEAD
${this.chownScript('"$4"')}`,
        [branch, PROJECT_REMOTE, project.defaultBranch, dir],
      );
      await this.linkGitDir(task.id);
      return { branch, baseCommit: lastLine(checkedOut.stdout), baseBranch: project.defaultBranch };
    }
    const written = await this.writeScratchWorkspace(task.id, branch);
    if (written) return { branch, baseCommit: written, baseBranch: 'main' };
    await mkdir(dir, { recursive: true });
    const created = await gitScript(
      dir,
      'init',
      `set -e
git init --quiet --template= --separate-git-dir "$2" --initial-branch "$1"
git --git-dir="$2" commit --quiet --allow-empty -m 'mainloop: a scratch workspace'
git --git-dir="$2" branch main
git --git-dir="$2" rev-parse HEAD`,
      [branch, gitDir],
    );
    await this.linkGitDir(task.id);
    return { branch, baseCommit: lastLine(created.stdout), baseBranch: 'main' };
  }

  /**
   * The checkout's `.git`: a file naming mainloop's git directory, so that git in the sandbox finds
   * it (read-only). Written again before each run: the task may have removed or replaced it, which
   * changes nothing for mainloop, but its own git would lose its history.
   */
  async linkGitDir(taskId: string): Promise<void> {
    const { path: dir, gitDir } = this.paths(taskId);
    const link = path.join(dir, '.git');
    const content = `gitdir: ${gitDir}\n`;
    const current = await lstat(link).catch(() => undefined);
    if (current?.isFile() && (await readFile(link, 'utf8').catch(() => '')) === content) return;
    if (current) await rm(link, { recursive: true, force: true });
    await writeFile(link, content);
    await this.own(link);
  }

  /** Gives the task's user what mainloop made for it (when its processes run as another user). */
  private async own(file: string): Promise<void> {
    const { owner } = this.options;
    if (owner) await chown(file, owner.uid, owner.gid);
  }

  /** A line of script that gives the tree at `$dir` to the task's user (symbolic links themselves, never followed). */
  private chownScript(dir: string): string {
    const { owner } = this.options;
    return owner ? `chown -R -h ${owner.uid}:${owner.gid} ${dir}` : '';
  }

  /**
   * A scratch workspace written from the files of a template repository (one empty commit on
   * `main`) that git made once in this process: no process per task, a few writes at once. Its git
   * directory is written beside its place and renamed into it, so a crash leaves no half-made one.
   * Undefined when the template's refs are not files (as with the reftable format): git makes
   * the workspace then.
   */
  private async writeScratchWorkspace(taskId: string, branch: string): Promise<string | undefined> {
    const template = await (this.scratchTemplate ??= this.makeScratchTemplate().catch(() => undefined));
    if (!template) return undefined;
    const { path: dir, gitDir } = this.paths(taskId);
    const making = `${gitDir}.making`;
    await rm(making, { recursive: true, force: true });
    const files = [
      ...template.files,
      { path: 'HEAD', content: `ref: refs/heads/${branch}\n`, mode: 0o644 },
      { path: `refs/heads/${branch}`, content: `${template.base}\n`, mode: 0o644 },
    ].map((file) => ({ ...file, path: path.join(making, file.path) }));
    const dirs = new Set([...files.map((file) => path.dirname(file.path)), path.join(making, 'refs', 'tags')]);
    await Promise.all([...dirs].map((each) => mkdir(each, { recursive: true })));
    await Promise.all(files.map((file) => writeFile(file.path, file.content, { mode: file.mode })));
    await mkdir(dir, { recursive: true });
    await this.own(dir);
    await this.linkGitDir(taskId);
    // Last: the git directory is what says that the workspace exists.
    await rename(making, gitDir);
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
    await this.adoptOldLayout(taskId);
    return isGitDirectory(this.paths(taskId).gitDir);
  }

  /**
   * A workspace made before the git directory moved out of it (its `.git` a directory the task
   * could write): that directory becomes mainloop's, rid of what could run or redirect anything —
   * hooks, attributes, worktree and common-directory links, borrowed objects — and its config
   * written anew. Once per such workspace.
   */
  private async adoptOldLayout(taskId: string): Promise<void> {
    const { path: dir, gitDir } = this.paths(taskId);
    const old = path.join(dir, '.git');
    if (!(await lstat(old).catch(() => undefined))?.isDirectory() || (await isGitDirectory(gitDir))) return;
    await mkdir(path.dirname(gitDir), { recursive: true });
    await rm(gitDir, { recursive: true, force: true });
    await rename(old, gitDir);
    await Promise.all(
      ['hooks', 'info/attributes', 'commondir', 'config.worktree', 'worktrees', 'modules'].map((entry) =>
        rm(path.join(gitDir, entry), { recursive: true, force: true }),
      ),
    );
    // (mainloop pushes to and fetches from the project's path as the database has it, never a remote's URL)
    await writeFile(path.join(gitDir, 'config'), '[core]\n\trepositoryformatversion = 0\n\tbare = false\n');
    // Objects it borrowed from the project (a --shared clone) become its own: the sandbox no longer shows the project.
    const alternates = path.join(gitDir, 'objects', 'info', 'alternates');
    if (await lstat(alternates).catch(() => undefined)) {
      await taskGit(this.repository(taskId), ['repack', '-a', '-d', '-q']);
      await rm(alternates, { force: true });
    }
    await this.linkGitDir(taskId);
  }

  /** Back to the last checkpoint: what a step that runs again must start from. */
  async reset(taskId: string): Promise<void> {
    await taskGitScript(
      this.repository(taskId),
      'reset',
      `set -e\ngit reset --hard --quiet HEAD\ngit clean -fd --quiet\n${this.chownScript('"$1"')}`,
      [this.paths(taskId).path],
    );
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
    const result = await taskGitScript(
      this.repository(taskId),
      'commit',
      `set -e
nl='
'
status=$(git status --porcelain=v2 --branch --ignore-submodules=all)
head=\${status#*"# branch.oid "}
head=\${head%%"$nl"*}
case "$nl$status" in *"$nl"[!#]*) ;; *) echo "same $head"; exit 0 ;; esac
message=$(git log -1 --format=%B)
case "$nl$message$nl" in *"$nl$1$nl"*) echo "same $head"; exit 0 ;; esac
git add --all
if git diff --cached --quiet --ignore-submodules=all; then echo "same $head"; exit 0; fi
git commit --quiet --no-verify -m "$2" -m "$1"
echo "new $(git rev-parse HEAD)"`,
      [`${STEP_TRAILER}: ${key}`, message],
    );
    const [state, commit = ''] = lastLine(result.stdout).split(' ');
    return { commit, changed: state === 'new' };
  }

  async head(taskId: string): Promise<string> {
    return taskGitOut(this.repository(taskId), ['rev-parse', 'HEAD']);
  }

  /** The unified diff of the task's branch against its base. */
  async diffText(taskId: string, base: string): Promise<string> {
    return diffText((args) => taskGit(this.repository(taskId), args), `${base}..HEAD`);
  }

  /**
   * The task's change (`base..head`, head the workspace's HEAD unless named), file by file;
   * `withPatch: false` leaves the patches out (a summary).
   */
  async diffFiles(
    taskId: string,
    base: string,
    options: { withPatch?: boolean; head?: string } = {},
  ): Promise<DiffFile[]> {
    const range = `${base}..${options.head ?? 'HEAD'}`;
    return diffFiles((args) => taskGit(this.repository(taskId), args), range, options.withPatch ?? true);
  }

  /** A change in the project's own repository (what a task merged, once its workspace is gone), file by file. */
  async projectDiffFiles(project: ProjectCheckout, base: string, head: string): Promise<DiffFile[]> {
    return diffFiles((args) => git(project.repoPath, args), `${base}..${head}`, true);
  }

  /** The unified diff of a change in the project's own repository. */
  async projectDiffText(project: ProjectCheckout, base: string, head: string): Promise<string> {
    return diffText((args) => git(project.repoPath, args), `${base}..${head}`);
  }

  /** Puts the task's branch into the project's repository (where it stays after the workspace is gone). */
  async publish(taskId: string, project: ProjectCheckout, branch: string): Promise<void> {
    await taskGit(this.repository(taskId), [
      'push',
      '--quiet',
      '--force',
      project.repoPath,
      `HEAD:refs/heads/${branch}`,
    ]);
  }

  /**
   * Merges the task's branch into the project's default branch: a merge commit made without
   * touching any checkout (`git merge-tree`), then the default branch moved to it — fast-forward
   * only, and in the person's checkout when that branch is checked out there (refused, not forced,
   * when their uncommitted changes are in the way).
   */
  async merge(taskId: string, project: ProjectCheckout, branch: string, title: string): Promise<MergeResult> {
    const repo = this.repository(taskId);
    const target = project.defaultBranch;
    await taskGit(repo, [
      'fetch',
      '--quiet',
      project.repoPath,
      `+refs/heads/${target}:refs/remotes/${PROJECT_REMOTE}/${target}`,
    ]);
    const upstream = await taskGitOut(repo, ['rev-parse', `${PROJECT_REMOTE}/${target}`]);
    const head = await taskGitOut(repo, ['rev-parse', 'HEAD']);
    if ((await taskGit(repo, ['merge-base', '--is-ancestor', head, upstream], { allowFailure: true })).code === 0) {
      // Merged already (a step run again): by the merge commit whose second parent is the work, if any.
      const merges = await taskGitOut(repo, ['rev-list', '--merges', '--parents', `${head}..${upstream}`]);
      const merge = merges
        .split('\n')
        .map((line) => line.split(' '))
        .find(([, , second]) => second === head);
      return merge ? { merged: true, commit: merge[0]!, onto: merge[1]! } : { merged: true, commit: head };
    }
    const tree = await taskGit(repo, ['merge-tree', '--write-tree', '--name-only', '--no-messages', upstream, head], {
      allowFailure: true,
    });
    if (tree.code === 1) {
      const [, ...files] = tree.stdout.trim().split('\n');
      return { merged: false, conflict: true, files: files.filter(Boolean) };
    }
    if (tree.code !== 0)
      return { merged: false, conflict: false, reason: tree.stderr.trim() || 'git merge-tree failed' };
    const treeId = tree.stdout.trim().split('\n')[0]!;
    const commit = await taskGitOut(repo, [
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
    await taskGit(repo, ['push', '--quiet', '--force', project.repoPath, `${commit}:refs/mainloop/merges/${taskId}`]);
    const checkout = await checkedOutAt(project.repoPath, target);
    if (checkout) {
      const dirty = await gitOut(checkout, [
        'status',
        '--porcelain',
        '--untracked-files=no',
        '--ignore-submodules=all',
      ]);
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
      const pushed = await taskGit(repo, ['push', '--quiet', project.repoPath, `${commit}:refs/heads/${target}`], {
        allowFailure: true,
      });
      if (pushed.code !== 0) {
        return { merged: false, conflict: false, reason: `${target} moved while merging; approve again` };
      }
    }
    await git(project.repoPath, ['update-ref', '-d', `refs/mainloop/merges/${taskId}`], { allowFailure: true });
    return { merged: true, commit, onto: upstream };
  }

  /** Removes the checkout, its git directory, the HOME and mainloop's state of the task; the branch stays in the project (published) or is gone with a scratch one. */
  async remove(taskId: string): Promise<void> {
    const { path: dir, home, gitDir, state } = this.paths(taskId);
    await Promise.all([dir, home, gitDir, state].map((each) => rm(each, { recursive: true, force: true })));
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

/** A diff of the task's commits as git has them: no program of anyone's turns the content into text, and nested repositories are entries, not looked into (nor their .gitmodules read). */
const DIFF_OPTIONS = ['--no-color', '--no-ext-diff', '--no-textconv', '--no-renames', '--ignore-submodules=all'];

/** git in one repository: a task's (`taskGit`) or a project's (`git`). */
type GitIn = (args: string[]) => Promise<GitResult>;

async function diffText(run: GitIn, range: string): Promise<string> {
  return (await run(['diff', ...DIFF_OPTIONS, range])).stdout;
}

async function diffFiles(run: GitIn, range: string, withPatch: boolean): Promise<DiffFile[]> {
  const numstat = (await run(['diff', ...DIFF_OPTIONS, '--numstat', '-z', range])).stdout.trim();
  const files: DiffFile[] = [];
  for (const record of numstat.split('\0').filter(Boolean)) {
    const [added = '0', deleted = '0', ...rest] = record.split('\t');
    const file = rest.join('\t');
    const patch = withPatch ? (await run(['diff', ...DIFF_OPTIONS, range, '--', file])).stdout : '';
    // Binary files show "-" in numstat.
    files.push({ path: file, additions: Number(added) || 0, deletions: Number(deleted) || 0, patch });
  }
  return files;
}

async function isGitDirectory(gitDir: string): Promise<boolean> {
  try {
    await stat(path.join(gitDir, 'HEAD'));
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
