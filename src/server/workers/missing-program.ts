import path from 'node:path';
import { INSTALL_BUBBLEWRAP } from './sandboxes.js';

/**
 * A program that could not be started because it is not there, as the text of a failure names
 * it: Node's `spawn <program> ENOENT` (mainloop started it), or bubblewrap's `execvp <program>: No
 * such file or directory` (the sandbox did).
 */
export function missingProgram(reason: string): string | undefined {
  return /\bspawn (\S+) ENOENT\b/.exec(reason)?.[1] ?? /\bexecvp (\S+): No such file or directory\b/.exec(reason)?.[1];
}

/** How to get each program mainloop or its runtimes start, by its name. */
const INSTALL: Readonly<Record<string, string>> = {
  codex: 'Install the Codex CLI with `npm i -g @openai/codex`',
  claude: 'Claude Code comes with mainloop: run `npm install` in mainloop’s folder again',
  node: 'Install Node.js 20 or later (https://nodejs.org)',
  git: 'Install git (Debian, Ubuntu: `sudo apt-get install git`; Fedora: `sudo dnf install git`; macOS: `xcode-select --install`)',
  bwrap: INSTALL_BUBBLEWRAP.replace(/\.$/, ''),
};

/**
 * A task's failure as a sentence a person can act on when it comes down to a program that is not
 * installed (`spawn codex ENOENT`): which program, and how to install it. Any other reason is
 * returned as it is.
 */
export function explainMissingProgram(reason: string): string {
  const program = missingProgram(reason);
  if (!program) return reason;
  const install =
    INSTALL[path.basename(program)] ??
    (path.isAbsolute(program)
      ? 'Install it there, or change what names it'
      : 'Install it, or add the folder it is in to the PATH mainloop runs with');
  return `The task could not start \`${program}\`: it is not installed on this machine (or not where mainloop looks for it). ${install}, then retry the task.`;
}
