import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, BrowserContext, BrowserContextOptions, Page, Worker } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { InboxResponse, Task } from '../../src/contract/index.js';
import type { PushPayload } from '../../src/contract/push.js';
import { CommandRuntime } from '../../src/server/workers/index.js';
import { FakePushService, type FakeDevice } from '../fakes/push-service.js';
import type { TestServer } from '../support/server.js';
import { ScriptedRuntime } from '../support/scripted-runtime.js';
import { MOBILE, newContext, screenshot, startAppWithProject, type AppWithProject } from './browser.js';

/**
 * The push half of the inbox in Chromium against a real mainloop: the built service worker shows
 * what the server pushes (the payload taken from a fake push service that decrypts the server's
 * real Web Push message, then handed to Chromium with DevTools' ServiceWorker.deliverPushMessage),
 * Approve from the notification decides a real task with the session cookie, the installed app
 * opens offline, and the Notifications section of Settings.
 */
describe('push (browser)', () => {
  const agent = new ScriptedRuntime('claude-code');
  let app: AppWithProject | undefined;
  let server: TestServer;
  let browser: Browser;
  let pushService: FakePushService;
  let device: FakeDevice;
  let signedIn: BrowserContextOptions['storageState'];
  let projectId: string;
  const contexts: BrowserContext[] = [];
  const api = <T = unknown>(method: string, url: string, body?: unknown) => app!.api<T>(method, url, body);

  beforeAll(async () => {
    pushService = await FakePushService.start();
    app = await startAppWithProject({
      runtimes: [agent, new CommandRuntime()],
      env: { MAINLOOP_MODEL_PROVIDER: 'none' },
      project: { name: 'garden', checkCommand: 'true' },
      repoPrefix: 'ml-browser-push-',
    });
    ({ server, browser, signedIn, projectId } = app);
    // A device the server pushes to: what it receives is exactly what a browser would decrypt.
    device = pushService.device();
    await api('POST', '/push/subscriptions', device.subscription);
  }, 120_000);

  afterEach(async () => {
    while (contexts.length)
      await contexts
        .pop()!
        .close()
        .catch(() => {});
  });

  afterAll(async () => {
    await app?.close();
    await pushService?.close();
  });

  async function taskStatus(id: string): Promise<Task['status']> {
    return (await api<{ task: Task }>('GET', `/tasks/${id}`)).task.status;
  }

  /** A `command` task that writes a file, passes the checks and waits for review; the push the server sent for it. */
  async function reviewTask(title: string): Promise<{ task: Task; payload: PushPayload }> {
    const { task } = await api<{ task: Task }>('POST', '/tasks', {
      title,
      prompt: 'x',
      runtime: 'command',
      command: `echo "${title}" > NOTES.md`,
      projectId,
    });
    await expect.poll(() => taskStatus(task.id), { timeout: 30_000 }).toBe('awaiting_review');
    return { task, payload: await pushFor(task.id, 'review') };
  }

  /** What the server pushed (to the fake device) for a task's item of this kind. */
  async function pushFor(taskId: string, kind: PushPayload['kind']): Promise<PushPayload> {
    const find = () =>
      device.received
        .map((push) => push.payload as PushPayload)
        .find((payload) => payload.taskId === taskId && payload.kind === kind);
    await expect.poll(() => find() !== undefined).toBe(true);
    return find()!;
  }

  /**
   * A tap on a notification's action. Headless Chromium shows no notification to tap, and DevTools
   * has no command for it: the worker's own `notificationclick` listener runs, with the notification
   * it shows, through Runtime.evaluate in the worker (Playwright's Worker.evaluate), so what it does
   * (fetch, with the worker's cookies) is a real request from the worker. Resolves with what the
   * listener waited for: "done", or why not.
   */
  function tapNotification(worker: Worker, tag: string, action: string): Promise<string> {
    return worker.evaluate(
      async ({ tag, action }) => {
        interface WorkerScope {
          registration: ServiceWorkerRegistration;
          dispatchEvent(event: Event): boolean;
          NotificationEvent: new (type: string, init: { notification: Notification; action: string }) => Event;
        }
        const scope = self as unknown as WorkerScope;
        const [notification] = await scope.registration.getNotifications({ tag });
        if (!notification) return 'no notification';
        const event = new scope.NotificationEvent('notificationclick', { notification, action });
        const pending: Array<Promise<unknown>> = [];
        // A script-made event may not extend itself: collect what the listener waits for instead.
        Object.defineProperty(event, 'waitUntil', { value: (promise: Promise<unknown>) => pending.push(promise) });
        scope.dispatchEvent(event);
        try {
          await Promise.all(pending);
          return pending.length ? 'done' : 'nothing awaited';
        } catch (error) {
          return `failed: ${String(error)}`;
        }
      },
      { tag, action },
    );
  }

  /** A signed-in page whose service worker is active and controls it, with notifications allowed. */
  async function openControlled(options: BrowserContextOptions = {}): Promise<{ page: Page; worker: Worker }> {
    const context = await newContext(browser, server.url, {
      storageState: signedIn,
      serviceWorkers: 'allow',
      ...options,
    });
    contexts.push(context);
    await context.grantPermissions(['notifications'], { origin: server.url });
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    const worker = context.waitForEvent('serviceworker');
    await page.goto('/');
    await page.waitForFunction(() => navigator.serviceWorker.controller?.state === 'activated');
    return { page, worker: await worker };
  }

  /** DevTools: the page's service worker registration, then a push message with `data` delivered to it. */
  async function deliverPush(page: Page, data: unknown): Promise<void> {
    const cdp = await page.context().newCDPSession(page);
    const registrationId = new Promise<string>((resolve) => {
      cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations }) => {
        const live = registrations.find(
          (registration) => !registration.isDeleted && registration.scopeURL === `${server.url}/`,
        );
        if (live) resolve(live.registrationId);
      });
    });
    await cdp.send('ServiceWorker.enable');
    await cdp.send('ServiceWorker.deliverPushMessage', {
      origin: server.url,
      registrationId: await registrationId,
      data: JSON.stringify(data),
    });
    // Not detached here: detaching disables DevTools' ServiceWorker domain, which may drop a push
    // still being dispatched (seen once in a full run); the session ends with its context.
  }

  interface ShownNotification {
    title: string;
    body: string;
    tag: string;
    icon: string;
    data: PushPayload;
    actions: Array<{ action: string; title: string }>;
  }

  function notifications(page: Page): Promise<ShownNotification[]> {
    return page.evaluate(async () => {
      const registration = await navigator.serviceWorker.ready;
      return (await registration.getNotifications()).map((notification) => ({
        title: notification.title,
        body: notification.body,
        tag: notification.tag,
        icon: notification.icon,
        data: notification.data as PushPayload,
        actions: [
          ...((notification as Notification & { actions?: Array<{ action: string; title: string }> }).actions ?? []),
        ].map(({ action, title }) => ({ action, title })),
      }));
    });
  }

  it('shows what the server pushes as a notification: its title and body, tagged with the item, with Approve on a review', async () => {
    const { page } = await openControlled();
    const { task, payload } = await reviewTask('Write the notes');
    const inbox = await api<InboxResponse>('GET', '/inbox');
    const item = inbox.needsYou.find((entry) => entry.taskId === task.id)!;
    expect(payload).toMatchObject({ itemId: item.id, kind: 'review', url: `/tasks/${task.id}` });

    await deliverPush(page, payload);
    await expect.poll(() => notifications(page)).toHaveLength(1);
    const [shown] = await notifications(page);
    expect(shown).toEqual({
      title: `Ready for review: #${task.number} Write the notes`,
      body: payload.body,
      tag: item.id,
      icon: `${server.url}/icons/icon-192.png`,
      data: payload,
      actions: [{ action: 'approve', title: 'Approve' }],
    });

    // The same item pushed again replaces its notification; a question offers Reply.
    await deliverPush(page, { ...payload, body: 'again' });
    await expect
      .poll(async () => (await notifications(page)).map((notification) => notification.body))
      .toEqual(['again']);
    const question: PushPayload = {
      itemId: 'item-question',
      kind: 'question',
      priority: 'high',
      title: 'Which bed gets the tomatoes?',
      body: 'north or south',
      url: `/tasks/${task.id}`,
      taskId: task.id,
      questionId: 'q1',
      replies: ['answer'],
      actions: [{ action: 'reply', title: 'Reply' }],
    };
    await deliverPush(page, question);
    await expect
      .poll(async () => (await notifications(page)).map((notification) => notification.tag).sort())
      .toEqual([item.id, 'item-question'].sort());
    const asked = (await notifications(page)).find((notification) => notification.tag === 'item-question')!;
    expect(asked).toMatchObject({ title: question.title, actions: [{ action: 'reply', title: 'Reply' }] });
  });

  it('Approve on the notification approves the plan, then the work: posted by the service worker with the session cookie', async () => {
    agent.then(
      () => ({ kind: 'plan', plan: '## Plan\n\n1. Rake', sessionId: 'leaves' }),
      async (request) => {
        await writeFile(path.join(request.cwd, 'LEAVES.md'), 'raked\n');
        return { kind: 'done', summary: 'Raked the leaves.', sessionId: 'leaves' };
      },
    );
    const { page, worker } = await openControlled();
    const { task } = await api<{ task: Task }>('POST', '/tasks', { title: 'Rake the leaves', prompt: 'x', projectId });

    const plan = await pushFor(task.id, 'plan_review');
    expect(plan.actions).toEqual([{ action: 'approve', title: 'Approve' }]);
    await deliverPush(page, plan);
    await expect.poll(async () => (await notifications(page)).map((shown) => shown.tag)).toEqual([plan.itemId]);
    expect(await tapNotification(worker, plan.itemId, 'approve')).toBe('done');
    expect(await notifications(page)).toEqual([]); // the tap closed it

    await expect.poll(() => taskStatus(task.id), { timeout: 30_000 }).toBe('awaiting_review');
    const review = await pushFor(task.id, 'review');
    await deliverPush(page, review);
    await expect.poll(async () => (await notifications(page)).map((shown) => shown.tag)).toEqual([review.itemId]);
    expect(await tapNotification(worker, review.itemId, 'approve')).toBe('done');
    await expect.poll(() => taskStatus(task.id)).toBe('completed');
    const inbox = await api<InboxResponse>('GET', '/inbox');
    expect(inbox.needsYou.some((entry) => entry.taskId === task.id)).toBe(false);
  });

  it('the installed app opens without a connection or with its server down: the shell, not an error page', async () => {
    const { page } = await openControlled({ viewport: MOBILE, isMobile: true, hasTouch: true });
    await page.getByTestId('tab-bar').waitFor();
    await page.context().setOffline(true);
    await page.reload();
    await page.getByTestId('tab-bar').waitFor();
    await page.getByTestId('connection-status').waitFor();
    await screenshot(page, 'push-offline-shell-mobile');
    await page.goto('/settings');
    await page.getByRole('heading', { name: 'Settings' }).waitFor();
    // The settings come from the server: said plainly while offline, read once back online.
    const problem = page.getByTestId('notifications-error');
    expect(await problem.textContent()).toContain('cannot be reached');
    await api('PATCH', '/settings', { notifications: { ntfyUrl: 'https://ntfy.example.test/mainloop-offline' } });
    await page.context().setOffline(false);
    await expect
      .poll(() => page.getByLabel('ntfy topic URL').inputValue())
      .toBe('https://ntfy.example.test/mainloop-offline');
    await problem.waitFor({ state: 'detached' });
    await api('PATCH', '/settings', { notifications: { ntfyUrl: null } });

    // The server down behind a proxy that answers 502: the shell too, not the proxy's error page.
    await page
      .context()
      .route(`${server.url}/`, (route) =>
        route.fulfill({ status: 502, contentType: 'text/html', body: '<h1>502 Bad Gateway</h1>' }),
      );
    await page.goto('/');
    await page.getByTestId('tab-bar').waitFor();
    await page.context().unrouteAll();

    // Something that is not the app opened in a tab (the manifest, an icon) does not become the shell.
    await page.goto('/manifest.webmanifest');
    await page.context().setOffline(true);
    await page.goto('/');
    await page.getByTestId('tab-bar').waitFor();
    await page.context().setOffline(false);
  });

  it('Notifications in Settings: channels, a write-only secret and quiet hours kept; a bad URL gets the server’s reason', async () => {
    const context = await newContext(browser, server.url, { storageState: signedIn, viewport: MOBILE });
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    await page.goto('/settings');
    const section = page.getByTestId('notification-settings');
    await section.waitFor();
    const secret = 'a-long-shared-webhook-secret';

    await section.getByLabel('ntfy topic URL').fill('https://ntfy.example.test/mainloop-garden');
    await section.getByLabel('Slack incoming webhook').fill('https://hooks.slack.example.test/services/T0/B0/x');
    await section.getByLabel('Webhook URL').fill('https://hooks.example.test/mainloop');
    await section.getByLabel('Webhook secret').fill(secret);
    await section.getByLabel(/Hold non-urgent pushes/).check();
    await section.getByLabel('From').fill('21:30');
    await section.getByLabel('Until').fill('06:45');
    await section.getByRole('button', { name: 'Save' }).click();
    await section.getByRole('status').getByText('Saved.').waitFor();
    expect(await section.getByLabel('Webhook secret').inputValue()).toBe('');

    await page.reload();
    await expect
      .poll(() => section.getByLabel('ntfy topic URL').inputValue())
      .toBe('https://ntfy.example.test/mainloop-garden');
    expect(await section.getByLabel('Slack incoming webhook').inputValue()).toBe(
      'https://hooks.slack.example.test/services/T0/B0/x',
    );
    expect(await section.getByLabel('Webhook URL').inputValue()).toBe('https://hooks.example.test/mainloop');
    expect(await section.getByLabel(/Hold non-urgent pushes/).isChecked()).toBe(true);
    expect(await section.getByLabel('From').inputValue()).toBe('21:30');
    expect(await section.getByLabel('Until').inputValue()).toBe('06:45');
    expect(await section.getByLabel('Webhook secret').inputValue()).toBe('');
    await section.getByText('A secret is set. It is never shown again.').waitFor();
    expect(await page.content()).not.toContain(secret);
    const settings = await (await context.request.get('/api/settings')).text();
    expect(settings).not.toContain(secret);
    expect(JSON.parse(settings).settings.notifications).toMatchObject({ webhookSecretSet: true });
    await screenshot(page, 'push-settings-mobile');

    // Changed on another device: shown at once; then, with an edit of this device's not saved
    // yet, another change elsewhere leaves the edit alone.
    await api('PATCH', '/settings', {
      notifications: { slackWebhookUrl: 'https://hooks.slack.example.test/services/T0/B0/y' },
    });
    await expect
      .poll(() => section.getByLabel('Slack incoming webhook').inputValue())
      .toBe('https://hooks.slack.example.test/services/T0/B0/y');
    await section.getByLabel('Webhook URL').fill('https://hooks.example.test/typed-here');
    await api('PATCH', '/settings', { quietHours: null, theme: 'nord' });
    // the theme shows that the change has arrived
    await expect.poll(() => page.evaluate(() => document.documentElement.dataset.theme)).toBe('nord');
    expect(await section.getByLabel('Webhook URL').inputValue()).toBe('https://hooks.example.test/typed-here');
    expect(await section.getByLabel(/Hold non-urgent pushes/).isChecked()).toBe(true);
    await page.reload();
    // (the stored URL shows once the settings have loaded: an unchecked box is also how the page starts)
    await expect.poll(() => section.getByLabel('Webhook URL').inputValue()).toBe('https://hooks.example.test/mainloop');
    expect(await section.getByLabel(/Hold non-urgent pushes/).isChecked()).toBe(false);

    // A URL the browser accepts but the server does not: the server's 400, said plainly.
    await section.getByLabel('ntfy topic URL').fill('ftp://ntfy.example.com/topic');
    await section.getByRole('button', { name: 'Save' }).click();
    const error = section.getByTestId('notifications-error');
    await error.waitFor();
    expect(await error.textContent()).toContain('ntfy topic URL must be an http:// or https:// URL');
    expect(
      (await api<{ settings: { notifications: { ntfyUrl: string } } }>('GET', '/settings')).settings.notifications
        .ntfyUrl,
    ).toBe('https://ntfy.example.test/mainloop-garden');

    // Nothing left for the next test: no channels, no quiet hours.
    await api('PATCH', '/settings', {
      notifications: { ntfyUrl: null, slackWebhookUrl: null, webhookUrl: null, webhookSecret: null },
      quietHours: null,
      theme: 'eighties',
    });
  });

  it('"Enable on this device" where the browser cannot subscribe says why, at once, and leaves push off', async () => {
    const enableAndRead = async (page: Page): Promise<string> => {
      await page.goto('/settings');
      const section = page.getByTestId('notification-settings');
      const enable = section.getByRole('button', { name: 'Enable on this device' });
      await enable.click();
      const error = section.getByTestId('push-error');
      await error.waitFor();
      expect(await enable.isEnabled()).toBe(true);
      expect(await section.getByTestId('push-enabled').count()).toBe(0);
      return (await error.textContent())!.trim();
    };

    // Headless Chromium has no push service: the browser's refusal, and what to do about it.
    const { page } = await openControlled({ viewport: MOBILE });
    expect(await enableAndRead(page)).toMatch(
      /^This browser could not subscribe to push notifications \(it said: “.+”\)\. Push needs a browser with a push service/,
    );
    await screenshot(page, 'push-enable-refused-mobile');
    expect(
      await page.evaluate(async () => (await navigator.serviceWorker.ready).pushManager.getSubscription()),
    ).toBeNull();

    // No service worker at all (blocked here; in development none is registered): said, not waited for.
    const blocked = await newContext(browser, server.url, { storageState: signedIn });
    contexts.push(blocked);
    await blocked.grantPermissions(['notifications'], { origin: server.url });
    const plain = await blocked.newPage();
    plain.setDefaultTimeout(20_000);
    expect(await enableAndRead(plain)).toMatch(/^mainloop’s service worker is not running in this browser/);

    // Permission not given (headless Chromium answers the prompt with "denied"): said once, no button left.
    const asked = await newContext(browser, server.url, { storageState: signedIn, serviceWorkers: 'allow' });
    contexts.push(asked);
    const askedPage = await asked.newPage();
    askedPage.setDefaultTimeout(20_000);
    await askedPage.goto('/settings');
    const section = askedPage.getByTestId('notification-settings');
    await section.getByRole('button', { name: 'Enable on this device' }).click();
    await section.getByText(/Notifications are blocked for mainloop/).waitFor();
    expect(await section.getByText(/Notifications are blocked for mainloop/).count()).toBe(1);
    expect(await section.getByRole('button', { name: 'Enable on this device' }).count()).toBe(0);
  });
});
