import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../support/server.js';
import { makeRepository } from '../support/tasks.js';
import { MOBILE, newContext, screenshot, signIn, startAppWithOwner } from './browser.js';

const backgroundOf = (theme: string) =>
  ({
    eighties: 'rgb(45, 45, 45)',
    nord: 'rgb(46, 52, 64)',
    'solarized-light': 'rgb(253, 246, 227)',
    gruvbox: 'rgb(40, 40, 40)',
  })[theme];

describe('settings page (browser)', () => {
  let server: TestServer;
  let browser: Browser;

  let app: Awaited<ReturnType<typeof startAppWithOwner>> | undefined;

  beforeAll(async () => {
    app = await startAppWithOwner();
    ({ server, browser } = app);
  });

  afterAll(async () => {
    await app?.close();
  });

  it('switches at once, survives a reload, follows the account to another device, and changes live', async () => {
    const context = await newContext(browser, server.url);
    await signIn(context);
    const page = await context.newPage();
    const theme = () => page.evaluate(() => document.documentElement.dataset.theme);
    const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);

    await page.goto('/settings');
    const select = page.getByTestId('theme-select');
    await select.waitFor();
    expect(await theme()).toBe('eighties');
    expect(await background()).toBe(backgroundOf('eighties'));

    await select.selectOption('solarized-light');
    expect(await theme()).toBe('solarized-light');
    expect(await background()).toBe(backgroundOf('solarized-light'));
    await screenshot(page, 'theme-solarized-light');

    // saved to the server...
    await expect
      .poll(async () => (await (await context.request.get('/api/settings')).json()).settings.theme)
      .toBe('solarized-light');
    // ...and remembered on this device before the app even starts
    await page.reload();
    expect(await theme()).toBe('solarized-light');
    expect(await select.inputValue()).toBe('solarized-light');

    // another device (fresh storage) gets the account's theme once signed in
    const other = await newContext(browser, server.url, { viewport: MOBILE });
    await signIn(other);
    const phone = await other.newPage();
    await phone.goto('/');
    await phone.getByTestId('chat-pane').waitFor();
    await expect.poll(() => phone.evaluate(() => document.documentElement.dataset.theme)).toBe('solarized-light');

    // a change made on one device shows on the other without a reload (settings.updated)
    await phone.locator('[data-testid="connection-status"][data-state="live"]').waitFor();
    await page.goto('/settings');
    await page.getByTestId('theme-select').selectOption('nord');
    await expect.poll(() => phone.evaluate(() => document.documentElement.dataset.theme)).toBe('nord');
    expect(await phone.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe(backgroundOf('nord'));
    await screenshot(phone, 'theme-nord-mobile');

    await other.close();
    await context.close();
  });
  it('creates an API token whose secret shows once and works, then revokes it after a confirmation', async () => {
    const context = await newContext(browser, server.url, { viewport: MOBILE });
    await signIn(context);
    const page = await context.newPage();
    await page.goto('/settings');

    await page.getByLabel('New token name').fill('laptop CLI');
    await page.getByRole('button', { name: 'Create token' }).click();
    const secretField = page.getByTestId('new-token-secret');
    await secretField.waitFor();
    const secret = await secretField.inputValue();
    expect(secret.length).toBeGreaterThan(16);
    expect(await page.getByTestId('new-token').textContent()).toContain("you won't see it again");
    expect(await page.getByTestId('api-token').allTextContents()).toEqual([expect.stringContaining('laptop CLI')]);
    await screenshot(page, 'api-token-created');

    const withToken = () => fetch(`${server.url}/api/settings`, { headers: { authorization: `Bearer ${secret}` } });
    expect((await withToken()).status).toBe(200);

    await page.getByRole('button', { name: 'Done' }).click();
    expect(await secretField.count()).toBe(0);
    await page.reload();
    await page.getByTestId('api-token').waitFor();
    expect(await page.locator('body').textContent()).not.toContain(secret);

    await page.getByRole('button', { name: 'Revoke laptop CLI' }).click();
    await page.getByRole('button', { name: 'Yes, revoke' }).click();
    await page.getByTestId('api-token').waitFor({ state: 'detached' });
    expect(await page.getByText('No tokens yet.').isVisible()).toBe(true);
    expect((await withToken()).status).toBe(401);
    await context.close();
  });

  it('says what is running: the model provider, each agent runtime with whether it can run here and why, and the sandbox, their markdown rendered', async () => {
    const context = await newContext(browser, server.url);
    await signIn(context);
    const page = await context.newPage();
    await page.goto('/settings');
    const expected = (await (await context.request.get('/api/providers')).json()) as {
      runtimes: Array<{ name: string; available: boolean; default: boolean }>;
      sandbox: { kind: string; summary: string };
    };
    const runtimes = page.getByTestId('agent-runtime');
    await runtimes.first().waitFor();
    expect(await runtimes.evaluateAll((rows) => rows.map((row) => (row as HTMLElement).dataset.name))).toEqual([
      'claude-code',
      'codex',
      'command',
    ]);
    for (const runtime of expected.runtimes) {
      const row = page.locator(`[data-testid="agent-runtime"][data-name="${runtime.name}"]`);
      expect(await row.getAttribute('data-available')).toBe(String(runtime.available));
      const text = await row.textContent();
      expect(text).toContain(runtime.available ? 'available' : 'not available');
      if (runtime.default) expect(text).toContain('the default');
    }
    // Codex is not installed here: it says so, and how to install it, as code rather than backticks
    const codex = page.locator('[data-testid="agent-runtime"][data-name="codex"]');
    expect(await codex.getAttribute('data-available')).toBe('false');
    expect(await codex.locator('code').allTextContents()).toContain('npm i -g @openai/codex');
    const provider = page.getByTestId('model-provider');
    expect(await provider.textContent()).not.toContain('`');
    expect(await provider.locator('a[href="https://console.anthropic.com/settings/keys"]').count()).toBe(1);

    const sandbox = page.getByTestId('task-sandbox');
    expect(await sandbox.getAttribute('data-kind')).toBe(expected.sandbox.kind);
    expect(await sandbox.textContent()).toContain(expected.sandbox.summary);
    await page.getByTestId('agent-runtimes').scrollIntoViewIfNeeded();
    await screenshot(page, 'settings-what-runs');
    await context.close();
  });

  it('adds a local project, says plainly what is wrong with a path, edits its check command and network, and removes it', async () => {
    const repo = await makeRepository({ branch: 'trunk' });
    const context = await newContext(browser, server.url);
    await signIn(context);
    const page = await context.newPage();
    await page.goto('/settings');
    const projects = page.getByTestId('project');
    await page.getByText('No projects yet.').waitFor();

    // what is wrong, by the field's name in the form, not the request's
    await page.getByLabel('Repository path').fill('relative/path');
    await page.getByRole('button', { name: 'Add project' }).click();
    await expect
      .poll(async () => (await page.getByTestId('projects-error').textContent())?.trim())
      .toBe('Repository path must be absolute.');
    expect(await projects.count()).toBe(0);
    // the next attempt clears it, whatever else it says
    const notARepository = path.join(repo, 'README.md');
    await page.getByLabel('Repository path').fill(notARepository);
    await page.getByRole('button', { name: 'Add project' }).click();
    await expect
      .poll(async () => (await page.getByTestId('projects-error').textContent())?.trim())
      .toBe(`Repository path: ${notARepository} is not a git repository.`);

    // the repository's build files suggest its check command; the person's own choice is kept
    await writeFile(path.join(repo, 'package.json'), JSON.stringify({ scripts: { test: 'node --test' } }));
    await page.getByLabel('Repository path').fill(repo);
    const check = page.getByLabel('Check command (optional)');
    await expect.poll(() => check.inputValue()).toBe('npm test');
    expect(await page.getByTestId('project-check-suggestion').textContent()).toContain(
      "Suggested by package.json's test script.",
    );
    await check.fill('make ci');
    await page.getByRole('button', { name: 'use it' }).click();
    expect(await check.inputValue()).toBe('npm test');

    await page.getByLabel('Name (optional)').fill('web app');
    await page.getByRole('button', { name: 'Add project' }).click();
    await projects.waitFor();
    expect(await page.getByTestId('projects-error').count()).toBe(0);
    const text = await projects.textContent();
    expect(text).toContain('web app');
    expect(text).toContain(`${repo} · trunk`); // the default branch, read from the repository
    expect(await page.getByTestId('project-check').textContent()).toContain('npm test');
    expect(await page.getByTestId('project-network').textContent()).toBe('no network');
    expect(await page.getByLabel('Repository path').inputValue()).toBe('');
    await screenshot(page, 'project-added');

    await page.getByRole('button', { name: 'Edit web app' }).click();
    await projects.getByLabel('Check command').fill('npm run check');
    await projects.getByLabel('Let its tasks reach the internet').check();
    await projects.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.getByTestId('project-check').textContent()).toContain('npm run check');
    expect(await page.getByTestId('project-network').textContent()).toBe('may reach the internet');
    const stored = (await (await context.request.get('/api/projects')).json()) as {
      projects: Array<{ name: string; checkCommand?: string; repo: { path: string }; allowNetwork: boolean }>;
    };
    expect(stored.projects).toEqual([
      expect.objectContaining({
        name: 'web app',
        checkCommand: 'npm run check',
        repo: { kind: 'local', path: repo },
        allowNetwork: true,
      }),
    ]);

    await page.reload();
    await page.getByRole('button', { name: 'Remove web app' }).click();
    await page.getByRole('button', { name: 'Yes, remove' }).click();
    await projects.waitFor({ state: 'detached' });
    expect(((await (await context.request.get('/api/projects')).json()) as { projects: unknown[] }).projects).toEqual(
      [],
    );
    await context.close();
    await rm(repo, { recursive: true, force: true });
  });

  it("shows a project added, renamed or removed in Settings at once in the inbox's filter, without a reload", async () => {
    const repo = await makeRepository();
    const context = await newContext(browser, server.url);
    await signIn(context);
    const page = await context.newPage();
    await page.goto('/');
    const filter = page.getByTestId('inbox-project');
    const offered = () => filter.locator('option').allTextContents();
    const inSettings = async (change: () => Promise<void>) => {
      await page.getByRole('link', { name: 'Settings' }).click();
      await page.getByTestId('projects').waitFor();
      await change();
      await page.getByRole('link', { name: /back/ }).click();
      await page.getByTestId('inbox').waitFor();
    };
    await page.getByTestId('inbox').waitFor();
    expect(await filter.count()).toBe(0); // no projects, no filter

    await inSettings(async () => {
      await page.getByLabel('Repository path').fill(repo);
      await page.getByLabel('Name (optional)').fill('garden');
      await page.getByRole('button', { name: 'Add project' }).click();
      await page.getByTestId('project').waitFor();
    });
    await expect.poll(offered).toEqual(['all projects', 'garden']);

    await inSettings(async () => {
      await page.getByRole('button', { name: 'Edit garden' }).click();
      await page.getByTestId('project').getByLabel('Name').fill('orchard');
      await page.getByTestId('project').getByRole('button', { name: 'Save' }).click();
      await page.getByRole('button', { name: 'Edit orchard' }).waitFor();
    });
    await expect.poll(offered).toEqual(['all projects', 'orchard']);

    await inSettings(async () => {
      await page.getByRole('button', { name: 'Remove orchard' }).click();
      await page.getByRole('button', { name: 'Yes, remove' }).click();
      await page.getByTestId('project').waitFor({ state: 'detached' });
    });
    await expect.poll(() => filter.count()).toBe(0);
    await context.close();
    await rm(repo, { recursive: true, force: true });
  });
});
