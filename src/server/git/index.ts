export {
  GitError,
  git,
  gitOut,
  gitScript,
  taskGit,
  taskGitOut,
  taskGitScript,
  type GitResult,
  type TaskRepository,
} from './git.js';
export { hasBranch, inspectRepository } from './inspect.js';
