import path from 'node:path';
import { git, gitOut } from './git.js';

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
