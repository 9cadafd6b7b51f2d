import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { suggestCheckCommand } from './check-command.js';

const folders: string[] = [];
afterEach(async () => {
  for (const folder of folders.splice(0)) await rm(folder, { recursive: true, force: true });
});

/** A repository folder holding `files` (a name ending in / is a folder). */
async function repository(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ml-check-'));
  folders.push(dir);
  for (const [name, text] of Object.entries(files)) {
    if (name.endsWith('/')) await mkdir(path.join(dir, name), { recursive: true });
    else await writeFile(path.join(dir, name), text);
  }
  return dir;
}

const scripts = (entries: Record<string, string>) => JSON.stringify({ name: 'app', scripts: entries });

describe('suggestCheckCommand', () => {
  it.each([
    [{ 'package.json': scripts({ test: 'vitest run' }) }, 'npm test', "package.json's test script"],
    [{ 'package.json': scripts({ test: 'jest' }), 'pnpm-lock.yaml': '' }, 'pnpm test', "package.json's test script"],
    [{ 'package.json': scripts({ test: 'jest' }), 'yarn.lock': '' }, 'yarn test', "package.json's test script"],
    [{ 'package.json': scripts({ test: 'jest' }), 'bun.lock': '' }, 'bun run test', "package.json's test script"],
    [{ 'package.json': scripts({ check: 'tsc && eslint .' }) }, 'npm run check', "package.json's check script"],
    [{ Makefile: 'build:\n\tcc main.c\n\ntest: build\n\t./run-tests\n' }, 'make test', "the Makefile's test target"],
    [{ Makefile: '.PHONY: check\ncheck lint:\n\t./ci\n' }, 'make check', "the Makefile's check target"],
    [{ 'Cargo.toml': '[package]\nname = "app"\n' }, 'cargo test', 'Cargo.toml'],
    [{ 'go.mod': 'module example.com/app\n' }, 'go test ./...', 'go.mod'],
    [{ 'pyproject.toml': '[tool.pytest.ini_options]\n' }, 'pytest', 'pyproject.toml'],
    [
      { 'pyproject.toml': '[project]\nname = "app"\n', 'tests/': '', 'uv.lock': '' },
      'uv run pytest',
      'pyproject.toml and uv.lock',
    ],
  ])('reads %j as %s', async (files, command, source) => {
    expect(await suggestCheckCommand(await repository(files))).toEqual({ command, source });
  });

  it('prefers a Makefile’s target to the package scripts, and the scripts to other build files', async () => {
    const both = await repository({
      Makefile: 'test:\n\tnpm test -- --ci\n',
      'package.json': scripts({ test: 'vitest run' }),
      'go.mod': 'module x\n',
    });
    expect(await suggestCheckCommand(both)).toMatchObject({ command: 'make test' });
    const noTarget = await repository({
      Makefile: 'build:\n\tgo build\ntest := yes\n',
      'package.json': scripts({ test: 'vitest run' }),
    });
    expect(await suggestCheckCommand(noTarget)).toMatchObject({ command: 'npm test' });
  });

  it('suggests nothing for npm’s placeholder test script, a bare folder, a broken package.json or no folder at all', async () => {
    const placeholder = scripts({ test: 'echo "Error: no test specified" && exit 1' });
    expect(await suggestCheckCommand(await repository({ 'package.json': placeholder }))).toBeUndefined();
    expect(await suggestCheckCommand(await repository({ 'README.md': '# app' }))).toBeUndefined();
    expect(await suggestCheckCommand(await repository({ 'package.json': '{ not json' }))).toBeUndefined();
    expect(
      await suggestCheckCommand(await repository({ 'pyproject.toml': '[project]\nname = "x"\n' })),
    ).toBeUndefined();
    expect(await suggestCheckCommand('/nonexistent/mainloop/repository')).toBeUndefined();
  });
});
