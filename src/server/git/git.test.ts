import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRepository } from '../../../test/support/tasks.js';
import { git, GitError } from './git.js';

let repo: string;
beforeAll(async () => {
  repo = await makeRepository({ prefix: 'ml-git-' });
});
afterAll(async () => {
  await rm(repo, { recursive: true, force: true });
});

describe('git through its helper process', () => {
  it('fails a call whose folder is a file, and only that call: the helper and the calls beside it go on', async () => {
    const [onFile, beside] = await Promise.allSettled([
      git(path.join(repo, 'README.md'), ['status']),
      git(repo, ['rev-parse', 'HEAD']),
    ]);
    expect(onFile.status).toBe('rejected');
    expect((onFile as PromiseRejectedResult).reason).toBeInstanceOf(GitError);
    expect((onFile as PromiseRejectedResult).reason.message).toMatch(/ENOTDIR/);
    expect(beside).toMatchObject({ status: 'fulfilled', value: { code: 0 } });
  });
});
