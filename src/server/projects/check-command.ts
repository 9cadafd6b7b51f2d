import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';

/** A check command read from what a repository holds, and where it came from (for the person). */
export interface CheckCommandSuggestion {
  command: string;
  /** e.g. `package.json's test script`: why this command */
  source: string;
}

/** Files larger than this are not build files anyone writes by hand: not read. */
const MAX_FILE_BYTES = 512 * 1024;

/** What `npm init` writes as the test script: a test script that only fails. */
const NPM_PLACEHOLDER_TEST = /no test specified/;

/**
 * The command that most likely checks a change in the repository at `dir`, from its build files,
 * in this order: a Makefile's `test` or `check` target; package.json's `test` or `check` script
 * (run with the package manager its lock file names); Cargo.toml; go.mod; pytest, when
 * pyproject.toml names it or a tests folder exists. Undefined when none of these says anything,
 * or the folder cannot be read. Reads only those files, and tells only the command.
 */
export async function suggestCheckCommand(dir: string): Promise<CheckCommandSuggestion | undefined> {
  const read = (name: string) => readSmallFile(path.join(dir, name));
  const exists = async (name: string) => (await stat(path.join(dir, name)).catch(() => undefined)) !== undefined;

  for (const name of ['GNUmakefile', 'Makefile', 'makefile']) {
    const makefile = await read(name);
    if (makefile === undefined) continue;
    const target = ['test', 'check'].find((candidate) => makeTarget(candidate).test(makefile));
    if (target) return { command: `make ${target}`, source: `the ${name}'s ${target} target` };
    break;
  }

  const manifest = await read('package.json');
  if (manifest !== undefined) {
    const scripts = packageScripts(manifest);
    const runner = await packageRunner(exists);
    if (scripts.test && !NPM_PLACEHOLDER_TEST.test(scripts.test)) {
      return { command: runner.test, source: "package.json's test script" };
    }
    if (scripts.check) return { command: `${runner.run} check`, source: "package.json's check script" };
  }

  if (await exists('Cargo.toml')) return { command: 'cargo test', source: 'Cargo.toml' };
  if (await exists('go.mod')) return { command: 'go test ./...', source: 'go.mod' };

  const pyproject = await read('pyproject.toml');
  if (pyproject !== undefined && (/pytest/.test(pyproject) || (await exists('tests')))) {
    if (await exists('uv.lock')) return { command: 'uv run pytest', source: 'pyproject.toml and uv.lock' };
    if (await exists('poetry.lock')) return { command: 'poetry run pytest', source: 'pyproject.toml and poetry.lock' };
    return { command: 'pytest', source: 'pyproject.toml' };
  }
  return undefined;
}

/** A rule for `target` (alone or among others: `test lint:`), not a variable (`test := …`). */
const makeTarget = (target: string) =>
  new RegExp(`^(?:[^\\s:#=]+[ \\t]+)*${target}(?:[ \\t]+[^\\s:#=]+)*[ \\t]*:(?!=)`, 'm');

/** How to run a package's scripts, by the lock file present (npm when there is none). */
async function packageRunner(exists: (name: string) => Promise<boolean>): Promise<{ test: string; run: string }> {
  if (await exists('pnpm-lock.yaml')) return { test: 'pnpm test', run: 'pnpm run' };
  if (await exists('yarn.lock')) return { test: 'yarn test', run: 'yarn run' };
  // `bun test` is bun's own test runner, not the script
  if ((await exists('bun.lock')) || (await exists('bun.lockb'))) return { test: 'bun run test', run: 'bun run' };
  return { test: 'npm test', run: 'npm run' };
}

function packageScripts(manifest: string): Record<string, string> {
  try {
    const scripts = (JSON.parse(manifest) as { scripts?: unknown }).scripts;
    if (typeof scripts !== 'object' || scripts === null) return {};
    return Object.fromEntries(
      Object.entries(scripts).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
    );
  } catch {
    return {};
  }
}

/** A regular file's text, or undefined when it is missing, not a file, or too large. */
async function readSmallFile(file: string): Promise<string | undefined> {
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile() || info.size > MAX_FILE_BYTES) return undefined;
  return readFile(file, 'utf8').catch(() => undefined);
}
