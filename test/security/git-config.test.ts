import { mkdtempSync } from 'node:fs';
import { chmod, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git, startServerWithProject, type ownerApi } from '../support/tasks.js';
import type { TestServer } from '../support/server.js';
import { BWRAP } from '../support/sandbox.js';

/**
 * Attack (issue 13, point 1): a task plants git configuration, attributes, hooks, nested
 * repositories, a `.git` pointing elsewhere and symbolic links in its workspace, then lets mainloop
 * do what it does with a workspace — checkpoint it (status, add, commit), show its diff (text and
 * JSON), publish its branch and merge it into the project. Every planted program would leave a
 * mark in a directory outside the sandbox (`ran-<what>`); the sandbox has no such directory, so a
 * mark means mainloop ran the task's code outside it. Before the fix, `core.fsmonitor` in the
 * workspace's `.git/config` ran as the server on every checkpoint, and `diff.<x>.textconv` on the
 * diff route.
 */

let server: TestServer;
let owner: ReturnType<typeof ownerApi>;
let projectId: string;
let repo: string;
/** Outside the sandbox: a canary file, and where a planted program that ran would leave its mark. */
const canary = mkdtempSync(path.join(os.tmpdir(), 'mainloop-canary-'));

beforeAll(async () => {
  await chmod(canary, 0o777);
  await writeFile(path.join(canary, 'canary.txt'), 'untouched\n');
  ({ server, owner, repo, projectId } = await startServerWithProject({ checkCommand: 'true' }));
}, 60_000);
afterAll(async () => {
  await server?.close();
  await rm(canary, { recursive: true, force: true });
});

/** A program that leaves its mark (`ran-<its first argument>`) in the canary directory, then does nothing. */
const EVIL_SCRIPT = (dir: string) => `#!/bin/sh
touch "${dir}/ran-$1" 2>/dev/null
echo changed > "${dir}/canary.txt" 2>/dev/null
exit 0
`;

/** Every setting through which git runs a program, written with `$1` (a `git config` command line). */
function plantSettings(config: string): string {
  const settings: Array<[string, string]> = [
    ['core.fsmonitor', '"$EVIL" fsmonitor'],
    ['core.sshCommand', '"$EVIL" ssh'],
    ['core.pager', '"$EVIL" pager'],
    ['core.editor', '"$EVIL" editor'],
    ['core.askPass', '"$EVIL" askpass'],
    ['core.hooksPath', '"$PWD/.evil/hooks"'],
    ['diff.external', '"$EVIL" diff-external'],
    ['diff.evil.textconv', '"$EVIL" textconv'],
    ['diff.evil.command', '"$EVIL" diff-command'],
    ['filter.evil.clean', '"$EVIL" clean'],
    ['filter.evil.smudge', '"$EVIL" smudge'],
    ['filter.evil.process', '"$EVIL" filter-process'],
    ['credential.helper', '"!$EVIL credential"'],
    ['remote.project.uploadpack', '"$EVIL" uploadpack'],
    ['remote.project.receivepack', '"$EVIL" receivepack'],
    ['commit.gpgSign', 'true'],
    ['gpg.program', '"$EVIL" gpg'],
    ['safe.directory', "'*'"],
    ['include.path', '"$PWD/.evil/included"'],
    ['includeIf.gitdir:/.path', '"$PWD/.evil/included-if"'],
  ];
  return settings.map(([key, value]) => `${config} ${key} ${value} 2>/dev/null`).join('\n');
}

/** The evil program, hooks of every kind, attributes that name the evil drivers, an included config. */
function prelude(): string {
  const hooks = ['pre-commit', 'post-commit', 'post-checkout', 'reference-transaction', 'pre-push', 'post-merge'];
  return `EVIL="$PWD/.evil/run.sh"
mkdir -p .evil/hooks
cat > "$EVIL" <<'SCRIPT'
${EVIL_SCRIPT(canary)}SCRIPT
chmod +x "$EVIL"
for hook in ${hooks.join(' ')} fsmonitor-watchman; do printf '#!/bin/sh\\n"%s" hook-%s\\n' "$EVIL" "$hook" > ".evil/hooks/$hook"; chmod +x ".evil/hooks/$hook"; done
printf '[core]\\n\\tfsmonitor = "%s" include\\n' "$EVIL" > .evil/included
printf '[core]\\n\\tfsmonitor = "%s" include-if\\n' "$EVIL" > .evil/included-if
printf '* diff=evil filter=evil\\n' > .gitattributes
echo changed >> README.md
echo new > "added-$(date +%s%N).txt"`;
}

/** Each way a task could make mainloop's git read what it wrote. */
const scenarios: Array<[string, string]> = [
  [
    'settings written through the workspace’s .git (the git directory mainloop uses)',
    `${prelude()}
${plantSettings('git config')}
cp .evil/hooks/* .git/hooks/ 2>/dev/null
true`,
  ],
  [
    'a .git directory of its own in place of the link, with every setting and hook',
    `${prelude()}
rm -rf .git && git init -q . && git config user.email t@example.com && git config user.name t
${plantSettings('git config')}
cp .evil/hooks/* .git/hooks/
true`,
  ],
  [
    'a .git file pointing to a git directory elsewhere that holds the settings',
    `${prelude()}
git init -q --bare .evil/elsewhere
${plantSettings('git --git-dir=.evil/elsewhere config')}
cp .evil/hooks/* .evil/elsewhere/hooks/
rm -rf .git && printf 'gitdir: %s\\n' "$PWD/.evil/elsewhere" > .git
true`,
  ],
  [
    'a nested repository (a would-be submodule) with the settings, and a .gitmodules that updates with a command',
    `${prelude()}
mkdir sub && cd sub && git init -q . && git config user.email t@example.com && git config user.name t
echo x > f && git add f && git commit -qm x
${plantSettings('git config')}
cd ..
printf '[submodule "sub"]\\n\\tpath = sub\\n\\turl = ./sub\\n\\tupdate = !"%s" submodule-update\\n' "$EVIL" > .gitmodules
true`,
  ],
  [
    'symbolic links out of the workspace, .git among them',
    `${prelude()}
ln -s / root-link
ln -s /etc/passwd passwd-link
ln -s "${canary}" canary-link
ln -s "${canary}/canary.txt" canary-file-link
rm -rf .git && ln -s "${canary}/canary.txt" .git
true`,
  ],
];

describe.skipIf(!BWRAP)('a task cannot make mainloop run its code through git', () => {
  it.each(scenarios)(
    '%s',
    async (_, command) => {
      const task = await owner.createTask({ title: 'Plant', prompt: 'x', runtime: 'command', command, projectId });
      const ready = await owner.waitForTask(task.id, (t) => t.status === 'awaiting_review' || t.status === 'failed', {
        timeout: 150_000,
      });
      await expectNothingRan();
      expect(ready.error).toBeUndefined();
      // The diff, as the person opens it: text and JSON.
      const text = await owner.call('GET', `/api/tasks/${task.id}/diff`);
      expect(text.statusCode).toBe(200);
      const added = /added-\d+\.txt/.exec(text.body)?.[0];
      expect(added).toBeDefined();
      const files = await server.app.inject({
        method: 'GET',
        url: `/api/tasks/${task.id}/diff`,
        headers: { ...server.authHeaders, accept: 'application/json' },
      });
      expect(files.statusCode).toBe(200);
      await expectNothingRan();
      // Approve: the branch is published and merged into the project's checkout.
      const approved = await owner.call('POST', `/api/tasks/${task.id}/review`, { decision: 'approve' });
      expect(approved.statusCode).toBe(200);
      const done = await owner.waitForTask(task.id, (t) => t.status === 'completed' || t.status === 'failed', {
        timeout: 150_000,
      });
      expect(done.error).toBeUndefined();
      expect(done.status).toBe('completed');

      await expectNothingRan();
      // The project got the change, and nothing else: its checkout is clean, its config its own.
      expect(await readFile(path.join(repo, added!), 'utf8')).toBe('new\n');
      expect(git(repo, 'status', '--porcelain', '--ignore-submodules=all')).toBe('');
      expect(git(repo, 'config', '--local', '--list')).not.toMatch(/evil|fsmonitor|hooksPath/);
    },
    400_000,
  );
});

/** No planted program left its mark outside the sandbox, and the canary is as it was. */
async function expectNothingRan(): Promise<void> {
  expect((await readdir(canary)).filter((name) => name.startsWith('ran-'))).toEqual([]);
  expect(await readFile(path.join(canary, 'canary.txt'), 'utf8')).toBe('untouched\n');
}
