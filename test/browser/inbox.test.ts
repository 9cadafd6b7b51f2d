import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { InboxItem, InboxResponse, Proposal, Question, Task, TaskSpec } from '../../src/contract/index.js';
import { ownerIdOf } from '../../src/server/thread/testing.js';
import { CommandRuntime } from '../../src/server/workers/index.js';
import { ScriptedRuntime, untilAborted } from '../support/scripted-runtime.js';
import type { TestServer } from '../support/server.js';
import { DESKTOP, MOBILE, newContext, screenshot, startAppWithProject, type AppWithProject } from './browser.js';

/**
 * The inbox in Chromium against a real mainloop: items posted with the API token (as a script
 * would), tasks run by a ScriptedRuntime on a real local git project. Each test leaves the inbox
 * empty for the next.
 */
describe('inbox (browser)', () => {
  const agent = new ScriptedRuntime('claude-code');
  let app: AppWithProject | undefined;
  let server: TestServer;
  let browser: Browser;
  let signedIn: BrowserContextOptions['storageState'];
  let projectId: string;
  const contexts: BrowserContext[] = [];
  const api = <T = unknown>(method: string, url: string, body?: unknown) => app!.api<T>(method, url, body);

  beforeAll(async () => {
    app = await startAppWithProject({
      runtimes: [agent, new CommandRuntime()],
      env: { MAINLOOP_MODEL_PROVIDER: 'none' },
      project: { name: 'garden', checkCommand: 'test -f ok.txt' },
      repoPrefix: 'ml-browser-inbox-',
    });
    ({ server, browser, signedIn, projectId } = app);
  }, 60_000);

  afterEach(async () => {
    // Nothing left for the next test: every live item resolved (what waits on the person cannot
    // just be put away: its proposal is dismissed, its task cancelled), every unfinished task cancelled.
    const inbox = await api<InboxResponse>('GET', '/inbox');
    for (const item of [...inbox.needsYou, ...inbox.snoozed]) {
      if (item.replies.includes('done')) await api('POST', `/inbox/items/${item.id}/done`);
      else if (item.proposalId) await api('POST', `/proposals/${item.proposalId}/dismiss`).catch(() => {});
      else if (item.taskId) await api('POST', `/tasks/${item.taskId}/cancel`).catch(() => {});
    }
    for (const task of inbox.active) await api('POST', `/tasks/${task.id}/cancel`).catch(() => {});
    while (contexts.length)
      await contexts
        .pop()!
        .close()
        .catch(() => {});
  });

  afterAll(() => app?.close());

  async function post(title: string, extra: object = {}): Promise<InboxItem> {
    return (await api<{ item: InboxItem }>('POST', '/inbox/items', { title, ...extra })).item;
  }

  async function itemState(id: string): Promise<InboxItem> {
    return (await api<{ item: InboxItem }>('GET', `/inbox/items/${id}`)).item;
  }

  async function open(
    viewport: typeof DESKTOP = DESKTOP,
    options: BrowserContextOptions & { serviceWorkers?: 'allow' | 'block' } = {},
  ): Promise<Page> {
    const context = await newContext(browser, server.url, {
      storageState: signedIn,
      viewport,
      ...(viewport === MOBILE ? { hasTouch: true, isMobile: true } : {}),
      ...options,
    });
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    await page.goto('/');
    await page.locator('[data-testid="connection-status"][data-state="live"]').waitFor();
    await page.getByTestId('needs-you').waitFor({ state: 'attached' }); // behind the Inbox tab on a phone
    return page;
  }

  const card = (page: Page, id: string) => page.locator(`[data-testid="inbox-item"][data-item-id="${id}"]`);

  it('snoozes an item for an hour from the item itself; one snoozed for a few seconds comes back on its own', async () => {
    const page = await open();
    const plants = await post('Water the plants', { body: 'The **basil** looks dry.' });
    const call = await post('Call the plumber');
    await card(page, plants.id).waitFor();
    expect(await card(page, plants.id).locator('strong').textContent()).toBe('basil');

    // What a script posts is text: no markup from a title, only sanitized markdown from a body.
    const sneaky = await post('Look <img src=x onerror="window.__xss=1">', {
      body: '<img src=x onerror="window.__xss=2"> [click](javascript:alert(1)) **bold**',
    });
    const sneakyCard = card(page, sneaky.id);
    await sneakyCard.waitFor();
    expect(await sneakyCard.getByTestId('inbox-item-title').textContent()).toContain('<img src=x');
    expect(await sneakyCard.locator('img').count()).toBe(0);
    expect(await sneakyCard.locator('a[href^="javascript"]').count()).toBe(0);
    expect(await sneakyCard.locator('strong').textContent()).toBe('bold');
    expect(await page.evaluate(() => (window as { __xss?: number }).__xss)).toBeUndefined();

    await card(page, plants.id).getByTestId('inbox-snooze').click();
    const menu = card(page, plants.id).getByTestId('snooze-menu');
    expect(await menu.getByTestId('snooze-evening').textContent()).toMatch(/(This|Tomorrow) evening/);
    await screenshot(page, 'inbox-snooze-menu-desktop');
    const before = Date.now();
    await menu.getByTestId('snooze-hour').click();
    await card(page, plants.id).waitFor({ state: 'detached' });
    const snoozed = page.getByTestId('inbox-snoozed');
    await snoozed.locator('summary').click();
    await snoozed.locator(`[data-testid="snoozed-item"][data-item-id="${plants.id}"]`).getByText(/until/).waitFor();
    await expect.poll(async () => (await itemState(plants.id)).state).toBe('snoozed');
    const until = Date.parse((await itemState(plants.id)).snoozedUntil!);
    expect(until - before).toBeGreaterThan(59 * 60_000);
    expect(until - before).toBeLessThan(61 * 60_000);

    // A few seconds ahead (through the API, as another device would): it leaves, then is back without a reload.
    await api('POST', `/inbox/items/${call.id}/snooze`, { until: new Date(Date.now() + 3_000).toISOString() });
    await card(page, call.id).waitFor({ state: 'detached' });
    await snoozed.locator(`[data-testid="snoozed-item"][data-item-id="${call.id}"]`).waitFor();
    await card(page, call.id).waitFor({ timeout: 15_000 });
    expect(await card(page, plants.id).count()).toBe(0);
  });

  const selected = (page: Page) =>
    page.locator('[data-testid="inbox-item"][data-selected="true"]').getAttribute('data-item-id');
  const focused = (page: Page) => page.evaluate(() => document.activeElement?.getAttribute('data-item-id'));

  it('triages from the keyboard: j/k move, e is done, s snoozes, ? lists the keys, never while typing', async () => {
    const page = await open();
    const first = await post('First thing');
    const second = await post('Second thing');
    const third = await post('Third thing', { url: 'https://example.com/third' });
    await card(page, third.id).waitFor();

    expect(await selected(page)).toBe(first.id); // shown selected before any key
    await page.keyboard.press('j');
    expect(await selected(page)).toBe(second.id);
    expect(await focused(page)).toBe(second.id);
    await page.keyboard.press('j');
    expect(await focused(page)).toBe(third.id);
    await page.keyboard.press('j'); // stays at the end
    expect(await selected(page)).toBe(third.id);
    await page.keyboard.press('k');
    expect(await focused(page)).toBe(second.id);
    // the focus ring shows where the keys act
    expect(await card(page, second.id).evaluate((element) => getComputedStyle(element).outlineStyle)).not.toBe('none');
    await screenshot(page, 'inbox-keyboard-desktop');

    // Typing in the chat box is typing, not triage.
    const composer = page.getByTestId('chat-pane').locator('textarea');
    await composer.click();
    await page.keyboard.type('e');
    expect(await composer.inputValue()).toBe('e');
    expect(await card(page, second.id).count()).toBe(1);
    await composer.fill('');

    await card(page, second.id).focus();
    await page.keyboard.press('e');
    await card(page, second.id).waitFor({ state: 'detached' });
    await expect.poll(async () => (await itemState(second.id)).state).toBe('done');
    // the selection moves to the item now in its place
    await expect.poll(() => selected(page)).toBe(third.id);

    // Enter opens the item: an outside link in a new tab, with no way back to this page.
    await page.context().route('https://example.com/**', (route) => route.fulfill({ body: 'the third thing' }));
    const opened = page.context().waitForEvent('page');
    await page.keyboard.press('Enter');
    const tab = await opened;
    await tab.waitForURL('https://example.com/third');
    expect(await tab.evaluate(() => window.opener)).toBeNull();
    await tab.close();
    await card(page, third.id).focus();

    await page.keyboard.press('s');
    const menu = card(page, third.id).getByTestId('snooze-menu');
    await menu.waitFor();
    await page.keyboard.press('Escape');
    await menu.waitFor({ state: 'detached' });
    await card(page, third.id).focus();
    await page.keyboard.press('s');
    await menu.getByTestId('snooze-morning').click();
    await card(page, third.id).waitFor({ state: 'detached' });
    await expect.poll(async () => (await itemState(third.id)).state).toBe('snoozed');
    expect(new Date((await itemState(third.id)).snoozedUntil!).getHours()).toBe(9); // this machine's zone, as the browser's

    await page.keyboard.press('?');
    const help = page.getByTestId('inbox-keys');
    await help.waitFor();
    expect(await help.textContent()).toContain('snooze');
    await screenshot(page, 'inbox-keys-desktop');
    await page.keyboard.press('Escape');
    await help.waitFor({ state: 'hidden' });
    expect(await card(page, first.id).count()).toBe(1);
  });

  it('acts on the item shown selected from the first key, and on the one in its place once it leaves', async () => {
    const first = await post('Sweep the path');
    const second = await post('Rake the leaves');
    const page = await open();
    await card(page, second.id).waitFor();
    // No j or k first: the first item looks selected, and e acts on it.
    expect(await selected(page)).toBe(first.id);
    await page.keyboard.press('e');
    await card(page, first.id).waitFor({ state: 'detached' });
    await expect.poll(async () => (await itemState(first.id)).state).toBe('done');
    await expect.poll(() => selected(page)).toBe(second.id);
    await page.keyboard.press('s');
    await card(page, second.id).getByTestId('snooze-menu').waitFor();
    await page.keyboard.press('Escape');

    // Done with a click: the focus moves on to the item now in its place.
    const third = await post('Mend the fence');
    await card(page, third.id).waitFor();
    await card(page, second.id).getByTestId('inbox-done').click();
    await card(page, second.id).waitFor({ state: 'detached' });
    await expect.poll(() => focused(page)).toBe(third.id);
    await page.keyboard.press('e');
    await card(page, third.id).waitFor({ state: 'detached' });
  });

  it('a plan waiting for the person cannot be put away: no Done, e says what resolves it, snooze hides it until its time', async () => {
    agent.then(() => ({ kind: 'plan', plan: '## Plan\n\n1. Water the roses', sessionId: 'roses' }));
    const page = await open();
    const task = (
      await api<{ task: Task }>('POST', '/tasks', { title: 'Water the roses', prompt: 'Water them', projectId })
    ).task;
    const plan = page.locator('[data-testid="inbox-item"][data-kind="plan_review"]');
    await plan.filter({ hasText: 'Water the roses' }).waitFor();
    expect(await plan.getByTestId('inbox-done').count()).toBe(0);
    for (const offered of ['inbox-approve', 'inbox-revise', 'inbox-snooze', 'inbox-cancel'])
      expect(await plan.getByTestId(offered).count()).toBe(1);

    // e on it (shown selected from the start): it stays, and the inbox says which keys resolve it.
    await page.keyboard.press('e');
    await page
      .getByTestId('inbox-note')
      .filter({ hasText: 'This plan waits on you, so it stays: a approves it, r asks for a revision, s snoozes it.' })
      .waitFor();
    expect(await plan.count()).toBe(1);
    const [item] = (await api<InboxResponse>('GET', '/inbox')).needsYou.filter((entry) => entry.taskId === task.id);
    // The API refuses it too, saying what to do.
    await expect(api('POST', `/inbox/items/${item!.id}/done`)).rejects.toThrow(
      /409 .*ITEM_STILL_WAITING.*This plan still waits on you, so it cannot be put away: approve it, ask for a revision, cancel the task or snooze it/,
    );
    await screenshot(page, 'inbox-plan-stays-desktop');

    // Snoozed, it leaves needs-you for the snoozed list (the task is still in view there).
    await plan.getByTestId('inbox-snooze').click();
    await plan.getByTestId('snooze-hour').click();
    await plan.waitFor({ state: 'detached' });
    const snoozed = page.getByTestId('inbox-snoozed');
    await snoozed.locator('summary').click();
    await snoozed.getByTestId('snoozed-item').filter({ hasText: 'Water the roses' }).waitFor();
  });

  it('pending proposals need the person: in needs you and counted; confirm, edit (only runtimes that can run) or dismiss there', async () => {
    agent.then(untilAborted, untilAborted);
    const ownerId = await ownerIdOf(server);
    const { services } = server;
    const message = await services.thread.postEvent(ownerId, { content: 'Proposals for the inbox test' });
    let calls = 0;
    const propose = (spec: TaskSpec) =>
      services.proposals.proposeTask(ownerId, { messageId: message.id, toolCallId: `inbox-${++calls}` }, spec);
    const proposalOf = async (id: string) => (await api<{ proposal: Proposal }>('GET', `/proposals/${id}`)).proposal;
    const page = await open();

    const tidy = await propose({ title: 'Tidy the shed', prompt: 'Sort the tools by size.', projectId });
    const tidyCard = page
      .locator('[data-testid="inbox-item"][data-kind="proposal"]')
      .filter({ hasText: 'Tidy the shed' });
    await tidyCard.waitFor();
    expect(await tidyCard.getByTestId('inbox-item-title').textContent()).toContain('Proposed: Tidy the shed');
    expect(await tidyCard.getByTestId('proposal-prompt').textContent()).toContain('Sort the tools by size.');
    expect(await tidyCard.textContent()).toMatch(/project\s*garden/);
    for (const name of ['Confirm', 'Edit', 'Dismiss', 'Snooze'])
      expect((await tidyCard.getByRole('button', { name, exact: true }).boundingBox())!.height).toBeGreaterThanOrEqual(
        44,
      );
    expect(await tidyCard.getByTestId('inbox-done').count()).toBe(0);
    await expect.poll(() => page.title()).toBe('(1) mainloop');
    await screenshot(page, 'inbox-proposal-desktop');
    await tidyCard.getByRole('button', { name: 'Confirm', exact: true }).click();
    await tidyCard.waitFor({ state: 'detached' });
    await expect.poll(async () => (await proposalOf(tidy.id)).status).toBe('confirmed');
    const tidyTask = (await proposalOf(tidy.id)).taskId!;
    await page.locator(`[data-testid="active-task"][data-task-id="${tidyTask}"]`).waitFor();
    await expect.poll(() => page.title()).toBe('mainloop');

    // Proposed on a runtime this server cannot run: not confirmed as it is; edited, it runs on one that can.
    const port = await propose({ title: 'Port the sprinkler', prompt: 'To the new valve.', runtime: 'codex' });
    const portCard = page
      .locator('[data-testid="inbox-item"][data-kind="proposal"]')
      .filter({ hasText: 'Port the sprinkler' });
    await portCard.waitFor();
    expect(await portCard.getByTestId('proposal-runtime-problem').textContent()).toContain(
      'codex cannot run here: not built into this server. Choose another runtime.',
    );
    expect(await portCard.getByRole('button', { name: 'Confirm', exact: true }).isDisabled()).toBe(true);
    await portCard.getByRole('button', { name: 'Edit', exact: true }).click();
    const editor = portCard.getByTestId('proposal-editor');
    const runtime = editor.getByLabel('Runtime');
    expect(await runtime.inputValue()).toBe('codex');
    expect(await runtime.locator('option[value="codex"]').isDisabled()).toBe(true);
    expect(await editor.getByTestId('runtime-problem').textContent()).toContain('codex cannot run here');
    expect(await editor.getByRole('button', { name: 'Confirm with changes' }).isDisabled()).toBe(true);
    await runtime.selectOption('claude-code');
    await editor.getByTestId('runtime-problem').waitFor({ state: 'detached' });
    await editor.getByLabel('Title').fill('Port the sprinkler, carefully');
    await editor.getByRole('switch', { name: /Plan first/ }).uncheck();
    await screenshot(page, 'inbox-proposal-edit-desktop');
    await editor.getByRole('button', { name: 'Confirm with changes' }).click();
    await portCard.waitFor({ state: 'detached' });
    await expect.poll(async () => (await proposalOf(port.id)).status).toBe('confirmed');
    const { task: ported } = await api<{ task: Task }>('GET', `/tasks/${(await proposalOf(port.id)).taskId}`);
    expect(ported).toMatchObject({ title: 'Port the sprinkler, carefully', runtime: 'claude-code', skipPlan: true });

    const rename = await propose({ title: 'Rename the garden', prompt: 'Something grander.' });
    const renameCard = page
      .locator('[data-testid="inbox-item"][data-kind="proposal"]')
      .filter({ hasText: 'Rename the garden' });
    await renameCard.getByRole('button', { name: 'Dismiss', exact: true }).click();
    await renameCard.waitFor({ state: 'detached' });
    await expect.poll(async () => (await proposalOf(rename.id)).status).toBe('dismissed');
  });

  it('starts a new task without the chat, and its live log unfolds in its card', async () => {
    const page = await open();
    await page.getByTestId('new-task-open').click();
    const form = page.getByTestId('new-task');
    const editor = form.getByTestId('proposal-editor');
    const runtime = editor.getByLabel('Runtime');
    // Only runtimes that can run here are offered; the others say why not.
    await expect.poll(() => runtime.locator('option[value="codex"]').isDisabled()).toBe(true);
    expect(await editor.locator('[data-testid="runtimes-unavailable"] [data-runtime="codex"]').textContent()).toMatch(
      /codex:\s*not built into this server/,
    );
    expect(await editor.getByRole('switch', { name: /Plan first/ }).isChecked()).toBe(true);
    await editor.getByLabel('Title').fill('Count the seeds');
    await editor.getByLabel('Prompt').fill('Count every seed packet.');
    await editor.getByLabel('Project').selectOption(projectId);
    await runtime.selectOption('command');
    await editor.getByRole('switch', { name: /Plan first/ }).waitFor({ state: 'detached' }); // a command does not plan
    await editor.getByLabel('Command').fill('echo counting seeds; sleep 60');
    await screenshot(page, 'inbox-new-task-desktop');
    await editor.getByRole('button', { name: 'Start task' }).click();
    await form.waitFor({ state: 'detached' });
    await page.getByTestId('inbox-note').filter({ hasText: 'Started “Count the seeds”.' }).waitFor();

    const active = page.locator('[data-testid="active-task"]').filter({ hasText: 'Count the seeds' });
    await active.waitFor();
    const toggle = active.getByTestId('active-task-log-toggle');
    expect(await toggle.getAttribute('aria-expanded')).toBe('false');
    expect((await toggle.boundingBox())!.height).toBeGreaterThanOrEqual(44);
    await toggle.click();
    await active
      .locator('[data-testid="log-item"][data-kind="stdout"]')
      .filter({ hasText: 'counting seeds' })
      .waitFor();
    // in place: still on the home page, the log inside the card
    expect(new URL(page.url()).pathname).toBe('/');
    const cardBox = (await active.boundingBox())!;
    const logBox = (await active.getByTestId('log-scroller').boundingBox())!;
    expect(logBox.y + logBox.height).toBeLessThanOrEqual(cardBox.y + cardBox.height + 1);
    await screenshot(page, 'inbox-active-log-desktop');
    await toggle.click();
    await active.getByTestId('task-log').waitFor({ state: 'detached' });
  });

  it('on a phone: the count on the tab, in the title and on the icon; done in one tap', async () => {
    const page = await open(MOBILE);
    const badge = page.getByTestId('tab-badge');
    expect(await badge.count()).toBe(0);
    expect(await page.title()).toBe('mainloop');

    const milk = await post('Buy milk', { priority: 'high' });
    await post('Renew the domain', { url: 'https://registrar.example.com/renew' });
    await expect.poll(() => badge.textContent()).toMatch(/^2/);
    expect(await page.title()).toBe('(2) mainloop');
    await expect.poll(() => page.locator('link[rel~="icon"]').first().getAttribute('data-badge')).toBe('2');
    expect(await page.locator('link[rel~="icon"]').first().getAttribute('href')).toMatch(/^data:image\/png/);

    await page.getByRole('tab', { name: /Inbox/ }).click();
    const renew = page.getByTestId('inbox-item').filter({ hasText: 'Renew the domain' });
    const link = renew.getByTestId('inbox-open');
    expect(await link.getAttribute('target')).toBe('_blank');
    expect(await link.getAttribute('rel')).toContain('noopener');
    await screenshot(page, 'inbox-mobile');

    await card(page, milk.id).getByTestId('inbox-done').tap();
    await card(page, milk.id).waitFor({ state: 'detached' });
    await expect.poll(() => page.title()).toBe('(1) mainloop');
    expect(await badge.textContent()).toMatch(/^1/);

    await renew.getByTestId('inbox-done').tap();
    await expect.poll(() => page.title()).toBe('mainloop');
    await badge.waitFor({ state: 'detached' });
    await expect.poll(() => page.locator('link[rel~="icon"]').first().getAttribute('href')).toBe('/icons/favicon.svg');
    expect(await page.getByTestId('needs-you').textContent()).toContain('Nothing needs you');

    // Both are in the history, newest first; a search finds one.
    const history = page.getByTestId('inbox-history');
    await history.locator('summary').tap();
    const done = history.getByTestId('history-item');
    await expect
      .poll(async () => (await done.allTextContents()).slice(0, 2))
      .toEqual([expect.stringContaining('Renew the domain'), expect.stringContaining('Buy milk')]);
    await history.getByTestId('history-search').fill('milk');
    await history.getByRole('button', { name: 'Search' }).tap();
    await expect.poll(() => done.allTextContents()).toEqual([expect.stringContaining('Buy milk')]);

    // A new task from the phone: the form fits the screen.
    await page.getByTestId('new-task-open').tap();
    await page.getByTestId('new-task').getByLabel('Title').waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(MOBILE.width);
    await screenshot(page, 'inbox-new-task-mobile');
    await page.getByTestId('new-task').getByRole('button', { name: 'Cancel' }).tap();
    await page.getByTestId('new-task').waitFor({ state: 'detached' });
  });

  it('acting on one device shows on the other at once: answer a question, approve a review at a glance, done', async () => {
    agent.then(
      () => ({
        kind: 'question',
        sessionId: 'beds',
        questions: [
          {
            text: 'Which bed gets the tomatoes?',
            options: [{ label: 'north', description: 'more sun' }, { label: 'south' }],
            multiSelect: false,
          },
        ],
      }),
      async (request) => {
        await writeFile(path.join(request.cwd, 'ok.txt'), 'tomatoes: north\n');
        return {
          kind: 'done',
          summary: 'Planted the **tomatoes** in the north bed.',
          sessionId: 'beds',
          usage: { inputTokens: 1000, outputTokens: 200, costUsd: 0.0321 },
        };
      },
    );
    const laptop = await open(DESKTOP);
    const phone = await open(MOBILE);
    await phone.getByRole('tab', { name: /Inbox/ }).click();
    const task = (
      await api<{ task: Task }>('POST', '/tasks', {
        title: 'Plant tomatoes',
        prompt: 'Plant them',
        projectId,
        skipPlan: true,
      })
    ).task;

    const question = (page: Page) =>
      page.locator('[data-testid="inbox-item"][data-kind="question"]').filter({ hasText: 'Which bed' });
    await question(laptop).waitFor();
    await question(phone).waitFor();
    expect(await question(phone).textContent()).toContain('Plant tomatoes');
    await screenshot(phone, 'inbox-question-mobile');

    // r opens the reply box on the laptop; the phone answers first, with one tap on an option.
    await question(laptop).focus();
    await laptop.keyboard.press('r');
    await question(laptop).getByTestId('answer-text').waitFor();
    expect(await laptop.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('answer-text');
    await question(phone).getByRole('button', { name: /north/ }).tap();
    await question(phone).waitFor({ state: 'detached' });
    await question(laptop).waitFor({ state: 'detached' });
    const { questions } = await api<{ questions: Question[] }>('GET', `/questions?taskId=${task.id}`);
    expect(questions[0]).toMatchObject({ status: 'answered', answer: 'north' });

    // The review, at a glance on the phone: what changed, the checks, the cost; approve in one tap.
    const review = (page: Page) => page.locator('[data-testid="inbox-item"][data-kind="review"]');
    await review(phone).waitFor();
    await review(laptop).waitFor();
    const glance = review(phone).getByTestId('review-glance');
    expect(await glance.getByTestId('glance-changes').textContent()).toMatch(/1\s+file\s+\+1\s+−0/);
    expect(await glance.getByTestId('glance-checks').textContent()).toMatch(/passed\s+· 1 round/);
    expect(await glance.getByTestId('glance-usage').textContent()).toContain('$0.03');
    expect(await glance.locator('strong').textContent()).toBe('tomatoes');
    await glance.getByTestId('glance-diff-toggle').tap();
    await glance.locator('[data-testid="diff-file"][data-path="ok.txt"] [data-line="add"]').waitFor();
    await screenshot(phone, 'inbox-review-mobile');
    await review(phone).getByTestId('inbox-approve').tap();
    await review(laptop).waitFor({ state: 'detached' });
    await laptop
      .locator(`[data-testid="inbox-completed"] [data-testid="task-card"][data-task-id="${task.id}"]`)
      .waitFor();

    // Done on the laptop clears it from the phone.
    const note = await post('Order seeds');
    await card(phone, note.id).waitFor();
    await card(laptop, note.id).getByTestId('inbox-done').click();
    await card(phone, note.id).waitFor({ state: 'detached' });
  });

  it('revises a plan with feedback, approves the next with a, and cancels the work only after confirmation', async () => {
    agent.then(
      () => ({ kind: 'plan', plan: '## Plan A\n\n1. Dig', sessionId: 'pond' }),
      () => ({ kind: 'plan', plan: '## Plan B\n\n1. Dig *deeper*', sessionId: 'pond' }),
      async (request) => {
        await writeFile(path.join(request.cwd, 'ok.txt'), 'pond\n');
        return { kind: 'done', summary: 'Dug the pond.', sessionId: 'pond' };
      },
    );
    const page = await open();
    const task = (await api<{ task: Task }>('POST', '/tasks', { title: 'Dig a pond', prompt: 'Dig it', projectId }))
      .task;
    const plan = page.locator('[data-testid="inbox-item"][data-kind="plan_review"]');
    await plan.filter({ hasText: 'Plan A' }).waitFor();
    await plan.getByTestId('inbox-revise').click();
    await plan.getByLabel('What should change in the plan?').fill('Deeper, please');
    await plan.getByRole('button', { name: 'Send feedback' }).click();
    await plan.filter({ hasText: 'Plan B' }).waitFor();
    expect(await plan.locator('em').textContent()).toBe('deeper');
    expect(agent.requests.at(-1)!.prompt).toContain('Deeper, please');

    await plan.focus();
    await page.keyboard.press('a');
    const review = page.locator('[data-testid="inbox-item"][data-kind="review"]');
    await review.filter({ hasText: 'Dig a pond' }).waitFor();

    await review.getByTestId('inbox-cancel').click();
    const dialog = page.getByTestId('confirm-dialog');
    await dialog.getByText('Cancel this task?').waitFor();
    await dialog.getByTestId('confirm-dismiss').click();
    await dialog.waitFor({ state: 'hidden' });
    expect((await api<{ task: Task }>('GET', `/tasks/${task.id}`)).task.status).toBe('awaiting_review');
    await review.getByTestId('inbox-cancel').click();
    await dialog.getByTestId('confirm-accept').click();
    await review.waitFor({ state: 'detached' });
    await expect
      .poll(async () => (await api<{ task: Task }>('GET', `/tasks/${task.id}`)).task.status)
      .toBe('cancelled');
  });

  it('retries a failure in one click, and keeps its project filter across updates and a reload', async () => {
    const page = await open();
    const elsewhere = await post('Not about the garden');
    const failing = (
      await api<{ task: Task }>('POST', '/tasks', {
        title: 'Flaky garden job',
        prompt: 'Run it',
        runtime: 'command',
        command: 'test -f "$HOME/go" || { echo "not yet"; exit 3; }; echo fine > ok.txt',
        projectId,
      })
    ).task;
    const failure = page.locator(`[data-testid="failure"][data-task-id="${failing.id}"]`);
    await failure.waitFor();
    await card(page, elsewhere.id).waitFor();

    // The failure's reason and its buttons are inside its card.
    const inside = async (testid: string) => {
      const outer = (await failure.boundingBox())!;
      const box = (await failure.getByTestId(testid).boundingBox())!;
      return (
        box.x >= outer.x &&
        box.y >= outer.y &&
        box.x + box.width <= outer.x + outer.width &&
        box.y + box.height <= outer.y + outer.height
      );
    };
    expect(await failure.getByTestId('failure-reason').textContent()).toContain('not yet');
    for (const testid of ['failure-reason', 'failure-retry', 'failure-cancel']) expect(await inside(testid)).toBe(true);
    // The heading sits level with the chat's; the filter, the section headings (folded ones too)
    // and the cards start at one left edge.
    const top = async (locator: ReturnType<Page['locator']>) => (await locator.boundingBox())!.y;
    const left = async (locator: ReturnType<Page['locator']>) => Math.round((await locator.boundingBox())!.x);
    expect(await top(page.getByTestId('inbox-heading'))).toBeCloseTo(
      await top(page.getByTestId('chat-pane').locator('h2').first()),
      0,
    );
    const edge = await left(page.locator('#needs-you-title'));
    for (const locator of [
      page.getByTestId('inbox-project'),
      page.locator('#failures-title'),
      failure,
      page.locator('#active-tasks-title'),
      page.getByTestId('inbox-snoozed').locator('summary'),
      page.getByTestId('inbox-history').locator('summary'),
    ])
      expect(await left(locator)).toBe(edge);
    await screenshot(page, 'inbox-failure-desktop');

    await page.getByTestId('inbox-project').selectOption(projectId);
    await card(page, elsewhere.id).waitFor({ state: 'detached' });
    await failure.waitFor();
    await page.reload();
    await failure.waitFor();
    expect(await page.getByTestId('inbox-project').inputValue()).toBe(projectId);
    expect(await card(page, elsewhere.id).count()).toBe(0);

    await writeFile(path.join(server.dataDir, 'homes', failing.id, 'go'), '');
    await failure.getByTestId('failure-retry').click();
    await failure.waitFor({ state: 'detached' });
    // it ran again, passed the project's checks and waits for review
    await page
      .locator('[data-testid="inbox-item"][data-kind="review"]')
      .filter({ hasText: 'Flaky garden job' })
      .waitFor();
    const later = await post('Also not about the garden'); // a live update does not undo the filter
    await expect.poll(() => page.title()).toBe('(3) mainloop'); // the count is for every project
    expect(await card(page, later.id).count()).toBe(0);
    await page.getByTestId('inbox-project').selectOption('');
    await card(page, later.id).waitFor();
  });

  it('offline: shows the inbox it kept, marked stale; an action taken offline reaches the server once back', async () => {
    const page = await open(DESKTOP, { serviceWorkers: 'allow' });
    await page.evaluate(async () => {
      await navigator.serviceWorker.ready;
    });
    const fence = await post('Fix the fence');
    const gate = await post('Oil the gate');
    await card(page, gate.id).waitFor();
    await expect
      .poll(() => page.evaluate(() => Object.keys(localStorage).some((key) => key.startsWith('mainloop.inbox.cache.'))))
      .toBe(true);
    await expect
      .poll(() =>
        page.evaluate(
          (id) =>
            Object.entries(localStorage).some(
              ([key, value]) => key.startsWith('mainloop.inbox.cache.') && value.includes(id),
            ),
          gate.id,
        ),
      )
      .toBe(true);

    await page.context().setOffline(true);
    await page.reload();
    await card(page, fence.id).waitFor();
    const stale = page.getByTestId('inbox-stale');
    expect(await stale.textContent()).toMatch(/offline — as of \d{1,2}:\d{2}/);
    await screenshot(page, 'inbox-offline-desktop');

    await card(page, fence.id).getByTestId('inbox-done').click();
    await card(page, fence.id).waitFor({ state: 'detached' });
    expect(await stale.textContent()).toContain('1 action to send when back online');
    expect((await itemState(fence.id)).state).toBe('open');
    // the action is on the device, not only in the page
    expect(
      await page.evaluate(() =>
        Object.entries(localStorage).some(
          ([key, value]) => key.startsWith('mainloop.inbox.queue.') && value.includes('done'),
        ),
      ),
    ).toBe(true);

    await page.context().setOffline(false);
    await expect.poll(async () => (await itemState(fence.id)).state).toBe('done');
    await stale.waitFor({ state: 'detached' });
    await card(page, gate.id).waitFor();
    expect(await card(page, fence.id).count()).toBe(0);
  });
});
