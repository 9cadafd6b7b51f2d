import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Task } from '../../src/contract/index.js';
import { CommandRuntime } from '../../src/server/workers/index.js';
import { ScriptedRuntime, untilAborted } from '../support/scripted-runtime.js';
import type { TestServer } from '../support/server.js';
import { git } from '../support/tasks.js';
import { DESKTOP, MOBILE, newContext, screenshot, startAppWithProject, type AppWithProject } from './browser.js';

/**
 * The workers' web app, driven in Chromium against a real mainloop whose agent is a
 * ScriptedRuntime (each test queues the runs it expects; they write real files in the task's
 * workspace) on a real local git project with a check command.
 */
describe('tasks (browser)', () => {
  const agent = new ScriptedRuntime('claude-code');
  let app: AppWithProject | undefined;
  let server: TestServer;
  let browser: Browser;
  let signedIn: BrowserContextOptions['storageState'];
  let repo: string;
  let projectId: string;
  const contexts: BrowserContext[] = [];
  const api = <T>(method: string, url: string, body?: unknown) => app!.api<T>(method, url, body);

  beforeAll(async () => {
    app = await startAppWithProject({
      runtimes: [agent, new CommandRuntime()],
      env: { MAINLOOP_MODEL_PROVIDER: 'none', MAINLOOP_WORKER_CONCURRENCY: '4' },
      project: { name: 'demo', checkCommand: 'test -f ok.txt' },
      repoPrefix: 'ml-browser-project-',
    });
    ({ server, browser, signedIn, repo, projectId } = app);
  }, 60_000);

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await app?.close();
  });

  async function createTask(spec: object): Promise<Task> {
    return (await api<{ task: Task }>('POST', '/tasks', spec)).task;
  }

  /** One signed-in page per screen size for the whole file (a new browser context costs seconds on a busy machine). */
  const pages = new Map<typeof DESKTOP, Page>();
  async function appPage(viewport: typeof DESKTOP): Promise<Page> {
    const open = pages.get(viewport);
    if (open) return open;
    const context = await newContext(browser, server.url, {
      storageState: signedIn,
      viewport,
      ...(viewport === MOBILE ? { hasTouch: true, isMobile: true } : {}),
    });
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    await page.goto('/');
    await page.locator('[data-testid="connection-status"][data-state="live"]').waitFor();
    pages.set(viewport, page);
    return page;
  }

  /** Goes to `path` inside the running app, as its own links do (no reload, the event stream stays up). */
  async function visit(path: string, viewport = DESKTOP): Promise<Page> {
    const page = await appPage(viewport);
    await page.evaluate((to) => {
      history.pushState(null, '', to);
      dispatchEvent(new PopStateEvent('popstate'));
    }, path);
    return page;
  }

  async function openTask(id: string, viewport = DESKTOP): Promise<Page> {
    const page = await visit(`/tasks/${id}`, viewport);
    await page.locator(`[data-testid="task-page"][data-task-id="${id}"] [data-testid="task-header"]`).waitFor();
    return page;
  }

  const inStatus = (page: Page, status: Task['status']) =>
    page.locator(`[data-testid="task-header"][data-status="${status}"]`).waitFor();

  it('revises a plan with feedback, approves it, reviews the diff and approves the work into the project', async () => {
    agent.then(
      (request) => {
        request.log({ kind: 'agent', text: 'Reading the **README** first.' });
        return { kind: 'plan', plan: '## Plan A\n\n1. Add a file', sessionId: 'plan-session' };
      },
      () => ({
        kind: 'plan',
        plan: '## Plan B\n\n1. Add `ok.txt` saying *fine*\n2. Run the checks',
        sessionId: 'plan-session',
      }),
      async (request) => {
        request.log({ kind: 'tool', text: 'Write ok.txt' });
        request.log({ kind: 'tool_result', text: 'Write: wrote 1 line' });
        await writeFile(path.join(request.cwd, 'ok.txt'), 'fine\n');
        return {
          kind: 'done',
          summary: 'Added **ok.txt**.',
          sessionId: 'plan-session',
          usage: { inputTokens: 1200, outputTokens: 340, costUsd: 0.0123 },
        };
      },
    );
    const task = await createTask({ title: 'Add the ok file', prompt: 'Add ok.txt so the checks pass', projectId });
    const page = await openTask(task.id);
    const plan = page.getByTestId('plan-review');
    await plan.getByRole('heading', { name: 'Plan A' }).waitFor();
    await page.locator('[data-testid="log-item"][data-kind="agent"] strong', { hasText: 'README' }).waitFor();
    // Named by its number, its id a click away; one way to cancel it.
    expect(await page.getByTestId('task-header').getByTestId('task-number').textContent()).toBe(`#${task.number}`);
    expect(await page.title()).toBe(`#${task.number} Add the ok file · mainloop`);
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    await page.getByTestId('task-copy-id').click();
    await page.getByTestId('task-copy-id').filter({ hasText: 'copied' }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(task.id);
    expect(await page.getByRole('button', { name: 'Cancel task' }).count()).toBe(1);

    await plan.getByTestId('plan-revise').click();
    await plan.getByLabel('What should change in the plan?').fill('Name the file and run the checks');
    await plan.getByRole('button', { name: 'Send feedback' }).click();
    await plan.getByRole('heading', { name: 'Plan B' }).waitFor();
    expect(agent.requests.at(-1)!.prompt).toContain('Name the file and run the checks');
    expect(await plan.locator('code').textContent()).toBe('ok.txt');
    // The feedback is in the task's history, as the person's.
    const decision = page.locator('[data-testid="log-item"][data-kind="decision"]');
    await decision.filter({ hasText: 'Plan sent back: Name the file and run the checks' }).waitFor();
    expect(await decision.first().textContent()).toMatch(/^you/);
    await screenshot(page, 'task-plan-desktop');

    await plan.getByTestId('plan-approve').click();
    await inStatus(page, 'awaiting_review');
    const review = page.getByTestId('review-summary');
    expect(await review.getByTestId('review-changes').textContent()).toMatch(/1\s+file\s+\+1\s+−0/);
    expect(await review.getByTestId('review-checks').textContent()).toMatch(/passed\s+· 1 round/);
    expect(await review.getByTestId('review-usage').textContent()).toMatch(/1\.5k\s+· \$0\.01/);
    expect(await review.locator('strong').textContent()).toBe('ok.txt');
    const file = page.locator('[data-testid="diff-file"][data-path="ok.txt"]');
    await expect.poll(() => file.locator('[data-line="add"]').allTextContents()).toEqual(['+fine']);
    await file.getByRole('button').click(); // folds
    await file.getByTestId('diff-patch').waitFor({ state: 'detached' });
    await file.getByRole('button').click();
    await file.getByTestId('diff-patch').waitFor();
    await screenshot(page, 'task-review-desktop');

    const phone = await openTask(task.id, MOBILE);
    await phone.getByTestId('review-summary').waitFor();
    await phone.locator('[data-testid="diff-file"][data-path="ok.txt"] [data-line="add"]').waitFor();
    await screenshot(phone, 'task-review-mobile');

    expect(await review.getByTestId('review-approve').textContent()).toBe('Approve and merge');
    await review.getByTestId('review-approve').click();
    await inStatus(page, 'completed');
    await inStatus(phone, 'completed');
    expect(await readFile(path.join(repo, 'ok.txt'), 'utf8')).toBe('fine\n');
    expect(await page.getByTestId('task-cancel').count()).toBe(0);

    // The page shows what was merged: the commit, its files and ±, the diff (read from the project: the workspace is gone).
    const merged = git(repo, 'rev-parse', 'main').trim();
    const outcome = page.getByTestId('task-outcome');
    await outcome.getByRole('heading', { name: 'merged into main' }).waitFor();
    expect(await outcome.getByTestId('merge-commit').textContent()).toBe(merged.slice(0, 7));
    expect(await outcome.getByTestId('outcome-changes').textContent()).toMatch(/1\s+file\s+\+1\s+−0/);
    expect(existsSync(path.join(server.dataDir, 'workspaces', task.id))).toBe(false);
    await expect
      .poll(() => page.locator('[data-testid="diff-file"][data-path="ok.txt"] [data-line="add"]').allTextContents())
      .toEqual(['+fine']);
    await page
      .locator('[data-testid="log-item"][data-kind="status"]', { hasText: `merged into main as ${merged.slice(0, 7)}` })
      .waitFor();
    await screenshot(page, 'task-merged-desktop');

    // The chat's note says what happened and when; its badge says what is true now. It links to this page.
    await page.getByRole('link', { name: /back/ }).click();
    const note = page
      .getByTestId('event-note')
      .filter({ hasText: 'ready for review' })
      .filter({ hasText: 'Add the ok file' });
    expect(await note.getByTestId('event-note-text').textContent()).toBe(
      `Task #${task.number} “Add the ok file”: ready for review`,
    );
    expect(await note.getByTestId('event-note-time').textContent()).toMatch(/\d{2}:\d{2}/);
    await note.locator('[data-testid="event-note-now"] [data-testid="task-status"][data-status="completed"]').waitFor();
    expect(await note.getByTestId('event-note-details').textContent()).toContain(`#${task.number}`);
    await note.getByTestId('task-link').click();
    await page.waitForURL(`**/tasks/${task.id}`);
    await inStatus(page, 'completed');
    git(repo, 'rm', '-q', 'ok.txt');
    git(repo, 'commit', '-q', '-m', 'reset for the next test');
  });

  it('walks the questions one at a time, goes back to change an answer, and resumes the agent; then requests changes', async () => {
    agent.then(
      () => ({
        kind: 'question',
        sessionId: 'paint',
        questions: [
          {
            header: 'Colour',
            text: 'Which colour?',
            options: [
              { label: 'red', description: 'warm, like the logo' },
              { label: 'blue', description: 'cool, like the docs' },
            ],
            multiSelect: false,
          },
          {
            text: 'Which sizes?',
            options: [{ label: 'S' }, { label: 'M' }, { label: 'L' }],
            multiSelect: true,
          },
        ],
      }),
      async (request) => {
        await writeFile(path.join(request.cwd, 'ok.txt'), 'blue, S and L\n');
        return { kind: 'done', summary: 'Painted it.', sessionId: 'paint' };
      },
      async (request) => {
        await writeFile(path.join(request.cwd, 'ok.txt'), 'blue, S and L, explained\n');
        return { kind: 'done', summary: 'Said more.', sessionId: 'paint' };
      },
    );
    const task = await createTask({ title: 'Paint it', prompt: 'Paint the thing', projectId, skipPlan: true });
    const page = await openTask(task.id, MOBILE);
    const wizard = page.getByTestId('question-wizard');
    await wizard.getByTestId('question-text').filter({ hasText: 'Which colour?' }).waitFor();
    expect(await wizard.getByTestId('question-header').textContent()).toBe('Colour');
    expect(await wizard.getByTestId('question-step').textContent()).toBe('1 of 2');
    await page.locator('[data-testid="flag-needs-input"]').waitFor();
    expect(await wizard.getByTestId('question-next').isDisabled()).toBe(true);

    await wizard.getByRole('button', { name: /red/ }).click();
    expect(await wizard.getByRole('button', { name: /red/ }).getAttribute('aria-pressed')).toBe('true');
    await wizard.getByTestId('question-next').click();

    await wizard.getByTestId('question-text').filter({ hasText: 'Which sizes?' }).waitFor();
    await wizard.getByLabel('S', { exact: true }).check();
    await wizard.getByLabel('L', { exact: true }).check();
    expect(await wizard.getByTestId('question-recap').textContent()).toContain('red');

    await wizard.getByTestId('question-back').click();
    await wizard.getByTestId('question-text').filter({ hasText: 'Which colour?' }).waitFor();
    expect(await wizard.getByRole('button', { name: /red/ }).getAttribute('aria-pressed')).toBe('true');
    await wizard.getByRole('button', { name: /blue/ }).click();
    await wizard.getByTestId('question-next').click();
    expect(await wizard.getByLabel('S', { exact: true }).isChecked()).toBe(true);
    expect(await wizard.getByLabel('M', { exact: true }).isChecked()).toBe(false);
    expect(await wizard.getByLabel('L', { exact: true }).isChecked()).toBe(true);
    expect(await wizard.getByTestId('question-recap').textContent()).toContain('blue');
    await screenshot(page, 'task-question-mobile');

    await wizard.getByTestId('question-submit').click();
    await inStatus(page, 'awaiting_review');
    await wizard.waitFor({ state: 'detached' });
    const resumed = agent.requests.at(-1)!;
    expect(resumed).toMatchObject({ mode: 'implement', sessionId: 'paint' });
    expect(resumed.prompt).toContain('Which colour?\n  Answer: blue');
    expect(resumed.prompt).toContain('Which sizes?\n  Answer: S, L');
    const review = page.getByTestId('review-summary');
    await review.getByText('Painted it.').waitFor();

    await review.getByTestId('review-request-changes').click();
    await review.getByLabel('What should change?').fill('Explain the choice');
    await review.getByRole('button', { name: 'Request changes' }).click();
    await review.getByText('Said more.').waitFor();
    await inStatus(page, 'awaiting_review');
    expect(agent.requests.at(-1)!.prompt).toContain('Explain the choice');
    await page
      .locator('[data-testid="log-item"][data-kind="decision"]', { hasText: 'Changes requested: Explain the choice' })
      .waitFor();
    await expect
      .poll(() => page.locator('[data-testid="diff-file"][data-path="ok.txt"] [data-line="add"]').allTextContents())
      .toEqual(['+blue, S and L, explained']);
    await api('POST', `/tasks/${task.id}/cancel`);
  });

  it('shows the log live as the agent works, follows it, catches up after being offline, and cancels only after confirmation', async () => {
    let release!: () => void;
    const more = new Promise<void>((resolve) => (release = resolve));
    agent.then(async (request) => {
      request.log({ kind: 'system', text: 'Workspace ready.' });
      request.log({ kind: 'agent', text: 'Looking at the **repository**.' });
      request.log({ kind: 'tool', text: 'Bash: ls' });
      request.log({ kind: 'tool_result', text: 'Bash: README.md' });
      for (let line = 1; line <= 60; line++) request.log({ kind: 'stdout', text: `build step ${line}` });
      await more;
      request.log({ kind: 'stdout', text: 'second wind' });
      request.log({ kind: 'stderr', text: 'warning: something odd' });
      return untilAborted(request);
    });
    const task = await createTask({ title: 'Long job', prompt: 'Work for a while', projectId, skipPlan: true });
    const page = await openTask(task.id);
    await inStatus(page, 'implementing');
    expect(await page.locator('[data-testid="task-header"] .motion-safe\\:animate-pulse').count()).toBe(1);
    const item = (kind: string) => page.locator(`[data-testid="log-item"][data-kind="${kind}"]`);
    await item('stdout').filter({ hasText: 'build step 60' }).waitFor();
    expect(await item('system').textContent()).toContain('Workspace ready.');
    expect(await item('agent').locator('strong').textContent()).toBe('repository');

    // The inbox lists it; its card opens this page on the phone, which then goes offline for a while.
    const phone = await visit('/', MOBILE);
    await phone.getByRole('tab', { name: 'Inbox' }).click();
    const card = phone.locator(`[data-testid="task-card"][data-task-id="${task.id}"]`);
    await card.waitFor();
    expect(await card.getAttribute('data-status')).toBe('implementing');
    expect(await card.textContent()).toContain('demo');
    await screenshot(phone, 'inbox-active-tasks-mobile');
    await card.click();
    await phone.waitForURL(`**/tasks/${task.id}`);
    const phoneItems = phone.locator('[data-testid="log-item"]');
    await phoneItems.filter({ hasText: 'build step 60' }).waitFor();
    expect(await phone.getByTestId('log-liveness').textContent()).toContain('live');
    await phone.context().setOffline(true);
    await phone.locator('[data-testid="connection-status"][data-state="offline"]').waitFor();
    // The log says what the header says: not live while offline.
    await phone.locator('[data-testid="log-liveness"][data-state="offline"]').waitFor();
    expect(await phone.getByTestId('log-liveness').textContent()).toContain('offline: not updating');
    expect(await page.getByTestId('log-liveness').getAttribute('data-state')).toBe('live');

    // Scrolled up, new lines do not pull the view down; "latest" counts them and jumps there.
    const scroller = page.getByTestId('log-scroller');
    await expect.poll(() => scroller.evaluate((element) => element.scrollTop > 0)).toBe(true); // it followed
    await scroller.evaluate((element) => element.scrollTo({ top: 0 }));
    await page.getByTestId('log-latest').waitFor();
    release();
    await item('stderr').filter({ hasText: 'warning: something odd' }).waitFor();
    await page.getByTestId('log-unread').waitFor();
    expect(await scroller.evaluate((element) => element.scrollTop)).toBe(0);
    await page.getByTestId('log-latest').click();
    await page.getByTestId('log-latest').waitFor({ state: 'detached' });
    await expect.poll(() => item('stderr').isVisible()).toBe(true);

    // A tool call is one folded line; its result opens on a click.
    const tool = item('tool');
    expect(await tool.getByTestId('tool-detail').count()).toBe(0);
    await tool.getByRole('button', { name: /Bash: ls/ }).click();
    expect(await tool.getByTestId('tool-detail').textContent()).toContain('Bash: README.md');
    await screenshot(page, 'task-log-desktop');

    // Back online, the phone has what it missed, each line once (events replayed and ?after= overlap).
    await phone.context().setOffline(false);
    await phone.locator('[data-testid="log-item"][data-kind="stderr"]').waitFor();
    await phone.locator('[data-testid="log-liveness"][data-state="live"]').waitFor();
    expect(await phoneItems.filter({ hasText: 'second wind' }).count()).toBe(1);
    const seqsOn = (on: Page) =>
      on.locator('[data-testid="log-item"]').evaluateAll((items) => items.map((li) => li.getAttribute('data-seq')));
    expect(await seqsOn(phone)).toEqual(await seqsOn(page));
    await screenshot(phone, 'task-log-mobile');

    await page.getByTestId('task-cancel').click();
    const dialog = page.getByTestId('confirm-dialog');
    await dialog.getByText('Cancel this task?').waitFor();
    await dialog.getByTestId('confirm-dismiss').click();
    await dialog.waitFor({ state: 'hidden' });
    expect(await page.getByTestId('task-header').getAttribute('data-status')).toBe('implementing');
    expect((await api<{ task: Task }>('GET', `/tasks/${task.id}`)).task.status).toBe('implementing');

    await page.getByTestId('task-cancel').click();
    await dialog.getByTestId('confirm-accept').click();
    await inStatus(page, 'cancelled');
    await inStatus(phone, 'cancelled');
    await dialog.waitFor({ state: 'hidden' });
    expect(await page.getByTestId('task-cancel').count()).toBe(0);
    await expect.poll(() => existsSync(path.join(server.dataDir, 'workspaces', task.id))).toBe(false);
    await phone.getByRole('link', { name: /back/ }).click();
    await phone.getByTestId('active-tasks').waitFor();
    expect(await card.count()).toBe(0);
  });

  it('shows why a task failed and retries it', async () => {
    const task = await createTask({
      title: 'Flaky job',
      prompt: 'Run it',
      runtime: 'command',
      command: 'test -f "$HOME/go" || { echo "not yet"; exit 3; }',
    });
    const page = await openTask(task.id, MOBILE);
    await inStatus(page, 'failed');
    expect(await page.getByTestId('task-error').textContent()).toMatch(/exited with code 3[\s\S]*not yet/);
    expect(await page.getByTestId('task-attempt').textContent()).toBe('attempt 1');
    await page.locator('[data-testid="log-item"][data-kind="stdout"]', { hasText: 'not yet' }).waitFor();
    await screenshot(page, 'task-failed-mobile');

    await writeFile(path.join(server.dataDir, 'homes', task.id, 'go'), ''); // the task's own HOME
    await page.getByTestId('task-retry').click();
    await inStatus(page, 'completed');
    expect(await page.getByTestId('task-attempt').textContent()).toBe('attempt 2');
    expect(await page.getByTestId('task-failure').count()).toBe(0);
  });

  it('says when the work changed nothing, and completes it without a merge', async () => {
    await writeFile(path.join(repo, 'ok.txt'), 'there already\n');
    git(repo, 'add', 'ok.txt');
    git(repo, 'commit', '-q', '-m', 'ok.txt, for a task with nothing to do');
    const main = git(repo, 'rev-parse', 'main').trim();
    agent.then(() => ({ kind: 'done', summary: 'ok.txt is there already: nothing to do.' }));
    const task = await createTask({ title: 'Make sure ok.txt is there', prompt: 'x', projectId, skipPlan: true });

    // The inbox names it by its number and does not offer a merge.
    const inbox = await visit('/');
    const item = inbox
      .locator(`[data-testid="inbox-item"][data-kind="review"]`)
      .filter({ hasText: 'Make sure ok.txt' });
    expect(await item.getByTestId('inbox-item-title').textContent()).toContain(
      `Ready for review: #${task.number} Make sure ok.txt is there`,
    );
    expect(await item.getByTestId('inbox-approve').textContent()).toBe('Complete without merging');

    const page = await openTask(task.id, MOBILE);
    const review = page.getByTestId('review-summary');
    await review.getByTestId('review-unchanged').waitFor();
    expect(await review.getByRole('heading').textContent()).toContain('nothing changed');
    expect(await review.getByTestId('review-changes').textContent()).toMatch(/0\s+files/);
    expect(await review.getByTestId('review-approve').textContent()).toBe('Complete without merging');
    expect(await page.getByRole('button', { name: /merg/i }).allTextContents()).toEqual(['Complete without merging']);
    expect(await page.getByRole('button', { name: 'Cancel task' }).count()).toBe(1);
    await screenshot(page, 'task-review-unchanged-mobile');

    await review.getByTestId('review-approve').click();
    await inStatus(page, 'completed');
    const outcome = page.getByTestId('task-outcome');
    await outcome.getByRole('heading', { name: 'completed without a merge' }).waitFor();
    expect(await outcome.getByTestId('outcome-unchanged').textContent()).toContain('nothing to merge');
    expect(await page.getByTestId('diff-viewer').count()).toBe(0);
    await page
      .locator('[data-testid="log-item"][data-kind="status"]', {
        hasText: 'Completed without a merge: nothing changed.',
      })
      .waitFor();
    expect(git(repo, 'rev-parse', 'main').trim()).toBe(main);
    git(repo, 'rm', '-q', 'ok.txt');
    git(repo, 'commit', '-q', '-m', 'reset for the next test');
  });

  it('keeps a failure note as history beside the task’s live badge once it is cancelled', async () => {
    const task = await createTask({ title: 'Doomed job', prompt: 'x', runtime: 'command', command: 'exit 7' });
    const page = await openTask(task.id);
    await inStatus(page, 'failed');
    await page.getByTestId('task-cancel').click();
    await page.getByTestId('confirm-dialog').getByTestId('confirm-accept').click();
    await inStatus(page, 'cancelled');

    await page.getByRole('link', { name: /back/ }).click();
    const note = page.locator(`[data-testid="event-note"][data-task-id="${task.id}"]`);
    expect(await note.getByTestId('event-note-text').textContent()).toMatch(
      new RegExp(`^Task #${task.number} “Doomed job” failed: [\\s\\S]*exited with code 7`),
    );
    await note.locator('[data-testid="event-note-now"] [data-testid="task-status"][data-status="cancelled"]').waitFor();
    await note.getByTestId('event-note-details').click();
    await note.getByTestId('event-note-open-task').waitFor();
    // The details speak of the task now: its last error is not shown beside *cancelled*.
    expect(await note.locator('.text-danger').count()).toBe(0);
    await screenshot(page, 'chat-task-notes-desktop');
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    await note.getByTestId('event-note-copy-id').click();
    await note.getByTestId('event-note-copy-id').filter({ hasText: 'copied' }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(task.id);
  });
});
