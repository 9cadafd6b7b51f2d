import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anthropicScenario, FakeAnthropicApi } from '../fakes/anthropic-api.js';
import { IdleTaskRunner } from '../../src/server/tasks/index.js';
import { MOBILE, newContext, screenshot, startAppWithOwner, type Api, type AppWithOwner } from './browser.js';

/**
 * The chat, driven in Chromium against a real mainloop whose model is the local fake of the
 * Anthropic Messages API (test/fakes/anthropic-api.ts): each turn takes the next scripted
 * scenario, so every test queues exactly the model calls it expects.
 */

interface WireMessage {
  id: string;
  role: string;
  content: string;
  status: string;
  clientId?: string;
}

describe('chat (browser)', () => {
  let fake: FakeAnthropicApi;
  let app: AppWithOwner | undefined;
  const api: Api = (method, url, body) => app!.api(method, url, body);
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    fake = await FakeAnthropicApi.start();
    app = await startAppWithOwner({
      env: {
        MAINLOOP_MODEL_PROVIDER: 'anthropic',
        ANTHROPIC_API_KEY: fake.apiKey,
        ANTHROPIC_BASE_URL: fake.url,
        CODEX_PATH: '/nonexistent/codex', // not installed here, whatever this machine has
      },
      // The chat, not the work: a confirmed task stays queued (its worker would talk to the same fake model).
      taskRunner: new IdleTaskRunner(),
    });
  });

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await app?.close();
    await fake?.close(); // fails loudly if the model got a request nobody queued a scenario for
  });

  async function openChat(options: { viewport?: { width: number; height: number }; bypassCSP?: boolean } = {}) {
    const context = await newContext(app!.browser, app!.server.url, {
      storageState: app!.signedIn,
      ...(options.viewport ? { viewport: options.viewport, hasTouch: options.viewport === MOBILE } : {}),
      ...(options.bypassCSP ? { bypassCSP: true } : {}),
    });
    contexts.push(context);
    const page = await context.newPage();
    await page.goto('/');
    await live(page);
    return { context, page };
  }

  const live = (page: Page) => page.locator('[data-testid="connection-status"][data-state="live"]').waitFor();
  const composer = (page: Page) => page.getByTestId('composer-input');
  const messages = (page: Page, role: string, status?: string) =>
    page.locator(`[data-testid="message"][data-role="${role}"]${status ? `[data-status="${status}"]` : ''}`);

  async function send(page: Page, text: string) {
    await composer(page).fill(text);
    await composer(page).press('Enter');
  }

  async function stored(content: string): Promise<WireMessage[]> {
    const { messages: page } = await api<{ messages: WireMessage[] }>('GET', '/thread/messages?limit=200');
    return page.filter((message) => message.content === content);
  }

  it('sends with Enter, streams the reply as it arrives, and completes it with its usage', async () => {
    fake.enqueue(anthropicScenario.slow(250, 'Hello', ' from', ' the', ' fake', ' model.'));
    const { page } = await openChat();

    await composer(page).fill('first line');
    await composer(page).press('Shift+Enter');
    await composer(page).type('second line');
    expect(await composer(page).inputValue()).toBe('first line\nsecond line');
    await composer(page).press('Enter');
    expect(await composer(page).inputValue()).toBe('');

    await messages(page, 'user').filter({ hasText: 'second line' }).waitFor();
    const reply = messages(page, 'assistant').last();
    await page.locator('[data-role="assistant"][data-status="streaming"]').waitFor();
    // part of the text is on screen before the reply is complete
    await expect.poll(async () => (await reply.textContent()) ?? '').toMatch(/Hello/);
    expect(await reply.getAttribute('data-status')).toBe('streaming');
    await screenshot(page, 'chat-streaming');

    await page.locator('[data-role="assistant"][data-status="complete"]').last().waitFor();
    expect(await reply.textContent()).toContain('Hello from the fake model.');
    expect(await reply.getByTestId('usage').textContent()).toMatch(/in · \d+ out/);
    expect(await stored('first line\nsecond line')).toHaveLength(1);
  });

  it('keeps a draft across reloads', async () => {
    const { page } = await openChat();
    await composer(page).fill('half a thought');
    await page.reload();
    await live(page);
    expect(await composer(page).inputValue()).toBe('half a thought');
    await composer(page).fill('');
  });

  it('renders markdown: highlighted code, tables, lists, links that open safely', async () => {
    fake.enqueue(
      anthropicScenario.text(
        'Use **this**:\n\n```ts\nconst answer: number = 42;\n```\n\n',
        '| a | b |\n|---|---|\n| 1 | 2 |\n\n- one\n- two\n\n[docs](https://example.com/docs)',
      ),
    );
    const { page } = await openChat();
    await send(page, 'show me markdown');
    const reply = page.locator('[data-role="assistant"][data-status="complete"]').last();
    await reply.locator('.hljs-keyword').first().waitFor();
    expect(await reply.locator('table td').allTextContents()).toEqual(['1', '2']);
    expect(await reply.locator('li').allTextContents()).toEqual(['one', 'two']);
    const link = reply.getByRole('link', { name: 'docs' });
    expect(await link.getAttribute('href')).toBe('https://example.com/docs');
    expect(await link.getAttribute('target')).toBe('_blank');
    expect(await link.getAttribute('rel')).toBe('noopener noreferrer');
  });

  it('confirms a proposal card and shows the task with its live status', async () => {
    fake.enqueue(
      anthropicScenario.toolCall({
        name: 'spawn_task',
        input: { title: 'Write the weekly report', prompt: 'Summarise the merged pull requests of the week.' },
        text: ['I can start a worker for that.'],
      }),
      anthropicScenario.text('Proposed: confirm it below.'),
    );
    const { page } = await openChat();
    await send(page, 'please start a task for the weekly report');
    const card = page.locator('[data-testid="proposal-card"][data-state="pending"]').last();
    await card.waitFor({ timeout: 20_000 });
    expect(await card.getByTestId('proposal-title').textContent()).toBe('Write the weekly report');
    for (const name of ['Confirm', 'Edit', 'Dismiss']) {
      const box = (await card.getByRole('button', { name, exact: true }).boundingBox())!;
      expect(box.height).toBeGreaterThanOrEqual(44);
    }
    await screenshot(page, 'chat-proposal');

    const proposalId = await card.getAttribute('data-proposal-id');
    await card.getByRole('button', { name: 'Confirm', exact: true }).click();
    // this card, not an earlier test's confirmed one
    const confirmed = page.locator(`[data-proposal-id="${proposalId}"][data-state="confirmed"]`);
    await confirmed.getByTestId('task-status').waitFor();
    const taskId = await confirmed.getByTestId('proposal-task').getAttribute('data-task-id');
    const { task } = await api<{ task: { title: string; status: string; number: number } }>('GET', `/tasks/${taskId}`);
    expect(task.title).toBe('Write the weekly report');
    expect(await confirmed.getByTestId('task-status').getAttribute('data-status')).toBe(task.status);
    // The card names the task by its number, not its id.
    expect(await confirmed.getByTestId('proposal-task').textContent()).toMatch(new RegExp(`^\\s*#${task.number}\\b`));
    expect(await confirmed.textContent()).not.toContain(taskId);
  });

  it('edits a proposal before confirming it: only runtimes that can run here, and whether it plans first', async () => {
    fake.enqueue(
      anthropicScenario.toolCall({
        name: 'spawn_task',
        input: { title: 'Fix the flaky test', prompt: 'Find out why login.test.ts fails now and then.' },
      }),
      anthropicScenario.text('Proposed.'),
    );
    const { page } = await openChat({ viewport: MOBILE });
    await send(page, 'the login test is flaky, propose a fix');
    const card = page.locator('[data-testid="proposal-card"][data-state="pending"]').last();
    await card.waitFor({ timeout: 20_000 });
    const proposalId = await card.getAttribute('data-proposal-id');
    await card.getByRole('button', { name: 'Edit', exact: true }).click();
    const editor = card.getByTestId('proposal-editor');
    await editor.getByLabel('Title').fill('Fix the flaky login test');
    // Codex is not installed: offered disabled, with why and how to install it.
    const runtime = editor.getByLabel('Runtime');
    await expect.poll(() => runtime.locator('option[value="codex"]').isDisabled()).toBe(true);
    expect(await runtime.locator('option[value="claude-code"]').isDisabled()).toBe(false);
    expect(await runtime.locator('option[value=""]').textContent()).toBe('default (claude-code)');
    expect(await editor.locator('[data-testid="runtimes-unavailable"] [data-runtime="codex"]').textContent()).toMatch(
      /codex:\s*the Codex CLI \(\/nonexistent\/codex\) is not installed: install it with npm i -g @openai\/codex/,
    );
    await runtime.selectOption('claude-code');
    await editor.getByLabel('Model').fill('claude-opus-4-1');
    const planFirst = editor.getByRole('switch', { name: /Plan first/ });
    expect(await planFirst.isChecked()).toBe(true);
    await planFirst.uncheck();
    await screenshot(page, 'chat-proposal-edit-mobile');
    // a command has no plan: no switch
    await runtime.selectOption('command');
    await planFirst.waitFor({ state: 'detached' });
    await runtime.selectOption('claude-code');
    await editor.getByRole('button', { name: 'Confirm with changes' }).click();

    const confirmed = page.locator(`[data-proposal-id="${proposalId}"][data-state="confirmed"]`);
    await confirmed.getByTestId('task-status').waitFor();
    const taskId = await confirmed.getByTestId('proposal-task').getAttribute('data-task-id');
    const { task } = await api<{
      task: { title: string; runtime: string; model?: string; prompt: string; skipPlan: boolean };
    }>('GET', `/tasks/${taskId}`);
    expect(task).toMatchObject({
      title: 'Fix the flaky login test',
      runtime: 'claude-code',
      model: 'claude-opus-4-1',
      prompt: 'Find out why login.test.ts fails now and then.',
      skipPlan: true,
    });
  });

  it('a proposal on a runtime that cannot run here says so and is not confirmed as it is', async () => {
    fake.enqueue(
      anthropicScenario.toolCall({
        name: 'spawn_task',
        input: { title: 'Port the parser', prompt: 'Port it to Go.', runtime: 'codex' },
      }),
      anthropicScenario.text('Proposed.'),
    );
    const { page } = await openChat();
    await send(page, 'port the parser with codex');
    const card = page.locator('[data-testid="proposal-card"][data-state="pending"]').last();
    await card.waitFor({ timeout: 20_000 });
    await expect
      .poll(async () => (await card.getByTestId('proposal-runtime-problem').textContent())?.trim())
      .toBe(
        'codex cannot run here: the Codex CLI (/nonexistent/codex) is not installed: install it with npm i -g @openai/codex. Choose another runtime.',
      );
    expect(await card.getByRole('button', { name: 'Confirm', exact: true }).isDisabled()).toBe(true);
    await card.getByRole('button', { name: 'Dismiss', exact: true }).click();
    await card.waitFor({ state: 'detached' });
  });

  it('dismissing a proposal folds its card', async () => {
    fake.enqueue(
      anthropicScenario.toolCall({ name: 'spawn_task', input: { title: 'Rename the repo', prompt: 'Rename it.' } }),
      anthropicScenario.text('Proposed.'),
    );
    const { page } = await openChat();
    await send(page, 'maybe rename the repo?');
    const card = page.locator('[data-testid="proposal-card"][data-state="pending"]').last();
    await card.waitFor({ timeout: 20_000 });
    const id = await card.getAttribute('data-proposal-id');
    await card.getByRole('button', { name: 'Dismiss', exact: true }).click();
    await page.locator(`[data-testid="proposal-card"][data-state="dismissed"][data-proposal-id="${id}"]`).waitFor();
  });

  it('a second device sees the same conversation live', async () => {
    fake.enqueue(anthropicScenario.slow(100, 'Seen', ' on', ' both', ' devices.'));
    const { page: laptop } = await openChat();
    const { page: phone } = await openChat({ viewport: MOBILE });
    await send(laptop, 'hello from the laptop');
    await messages(phone, 'user').filter({ hasText: 'hello from the laptop' }).waitFor();
    await phone
      .locator('[data-role="assistant"][data-status="complete"]', { hasText: 'Seen on both devices.' })
      .waitFor();
    await laptop
      .locator('[data-role="assistant"][data-status="complete"]', { hasText: 'Seen on both devices.' })
      .waitFor();
    await screenshot(phone, 'chat-second-device-mobile');
  });

  it('queues a message written offline and delivers it exactly once on reconnect', async () => {
    fake.enqueue(anthropicScenario.text('Got it, now that you are back.'));
    const { context, page } = await openChat();
    await context.setOffline(true);
    await page.locator('[data-testid="connection-status"][data-state="offline"]').waitFor();
    await send(page, 'written on the train');
    const queued = page.locator('[data-testid="message"][data-status="pending"]', { hasText: 'written on the train' });
    await queued.getByTestId('pending-state').and(page.locator('[data-state="queued"]')).waitFor();
    const outbox = await page.evaluate(() =>
      Object.keys(localStorage)
        .filter((key) => key.startsWith('mainloop.outbox.'))
        .map((key) => localStorage.getItem(key)),
    );
    expect(outbox.join()).toContain('written on the train');
    await screenshot(page, 'chat-queued');

    await context.setOffline(false);
    await messages(page, 'user', 'complete').filter({ hasText: 'written on the train' }).waitFor({ timeout: 20_000 });
    await page
      .locator('[data-role="assistant"][data-status="complete"]', { hasText: 'now that you are back' })
      .waitFor();
    expect(await queued.count()).toBe(0);
    const [message, ...more] = await stored('written on the train');
    expect(more).toEqual([]);
    expect(message?.clientId).toBeTruthy();
  });

  it('a message queued offline survives closing the page and goes out, once, when the app opens again', async () => {
    fake.enqueue(anthropicScenario.text('Delivered after a restart of the page.'));
    const { context, page } = await openChat();
    await context.setOffline(true);
    await page.locator('[data-testid="connection-status"][data-state="offline"]').waitFor();
    await send(page, 'sent before the battery died');
    await page.getByTestId('pending-state').waitFor();
    await page.close();

    await context.setOffline(false);
    const again = await context.newPage();
    await again.goto('/');
    await messages(again, 'user', 'complete')
      .filter({ hasText: 'sent before the battery died' })
      .waitFor({ timeout: 20_000 });
    await again.locator('[data-role="assistant"][data-status="complete"]', { hasText: 'after a restart' }).waitFor();
    expect(await stored('sent before the battery died')).toHaveLength(1);
  });

  it('a message the server refuses comes back to the composer with the reason', async () => {
    const { page } = await openChat();
    const tooLong = 'x'.repeat(100_001);
    await composer(page).fill(tooLong);
    await composer(page).press('Enter');
    await page.getByTestId('send-error').waitFor();
    expect(await composer(page).inputValue()).toBe(tooLong);
    expect(await page.locator('[data-testid="message"][data-status="pending"]').count()).toBe(0);
    await composer(page).fill('');
  });

  it('a reply that failed shows why, and Retry runs the turn again', async () => {
    fake.enqueue(anthropicScenario.badRequest('prompt is too long: 250000 tokens > 200000 maximum'));
    const { page } = await openChat();
    await send(page, 'this one fails');
    const failed = page.locator('[data-role="assistant"][data-status="error"]').last();
    await failed.getByTestId('reply-error').waitFor({ timeout: 20_000 });
    expect(await failed.getByTestId('reply-error').textContent()).toMatch(/too long|400|invalid/i);

    fake.enqueue(anthropicScenario.text('Second time lucky.'));
    const id = await failed.getAttribute('data-message-id');
    await failed.getByRole('button', { name: 'Retry' }).click();
    await page.locator('[data-role="assistant"][data-status="complete"]', { hasText: 'Second time lucky.' }).waitFor();
    expect(id).toBeTruthy();
  });

  it('nothing from a user, the model or a tool runs as script', async () => {
    const payloads = [
      '<img src=x onerror="window.__xss=\'img\'">',
      '<svg onload="window.__xss=\'svg\'"></svg>',
      '<a href="javascript:window.__xss=\'a\'">a link</a>',
      '<iframe srcdoc="<script>parent.__xss=\'iframe\'</script>"></iframe>',
      '<style>body{display:none}</style>',
    ].join(' ');
    fake.enqueue(
      anthropicScenario.toolCall({
        name: 'spawn_task',
        input: {
          title: 'Task <img src=x onerror="window.__xss=1">' /* within the 200-character title limit */,
          prompt: `Prompt ${payloads} [md link](javascript:window.__xss='md')`,
        },
        text: [`Reply ${payloads}\n\n[md link](javascript:window.__xss='md') `, '<img src=x onerror=alert(1)>'],
      }),
      anthropicScenario.text(`Done. ${payloads}\n\n![x](javascript:window.__xss='image')`),
    );
    // With CSP bypassed, any handler that reached the DOM would run: the sanitizer alone must stop it.
    const { page } = await openChat({ bypassCSP: true });
    await page.addInitScript(() => {
      (window as unknown as { __xss?: unknown }).__xss = undefined;
      window.alert = () => {
        (window as unknown as { __xss?: unknown }).__xss = 'alert';
      };
    });
    await page.reload();
    await live(page);
    await send(page, `User ${payloads}`);
    await page
      .locator('[data-testid="proposal-card"][data-state="pending"]')
      .last()
      .waitFor({ state: 'attached', timeout: 20_000 });
    await page
      .locator('[data-role="assistant"][data-status="complete"]', { hasText: 'Done.' })
      .waitFor({ state: 'attached' });
    await page.waitForTimeout(500);

    const findings = await page.evaluate(() => {
      const thread = document.querySelector('[data-testid="messages"]')!;
      const found: string[] = [];
      for (const element of thread.querySelectorAll('*')) {
        for (const attribute of element.attributes) {
          if (attribute.name.startsWith('on')) found.push(`${element.tagName}[${attribute.name}]`);
          if (/^\s*(javascript|data|vbscript):/i.test(attribute.value))
            found.push(`${element.tagName}[${attribute.name}=${attribute.value}]`);
        }
        if (['IMG', 'SVG', 'IFRAME', 'STYLE', 'SCRIPT'].includes(element.tagName.toUpperCase()))
          found.push(element.tagName);
      }
      return {
        found,
        xss: (window as unknown as { __xss?: unknown }).__xss,
        bodyVisible: getComputedStyle(document.body).display,
      };
    });
    expect(findings).toEqual({ found: [], xss: undefined, bodyVisible: 'block' });
    // the payloads are on screen as text, not swallowed
    expect(await page.getByTestId('messages').textContent()).toContain('onerror');
    await page.locator('[data-role="assistant"]').getByText('md link').first().click();
    expect(await page.evaluate(() => (window as unknown as { __xss?: unknown }).__xss)).toBeUndefined();
  });

  it('sticks to the bottom, stays put when scrolled up, and offers a jump to the latest', async () => {
    const { page } = await openChat();
    // enough history to scroll: the thread so far plus a few more turns
    for (let i = 0; i < 6; i++) {
      fake.enqueue(anthropicScenario.text(`Filler reply ${i}.\n\n${'A long line of text. '.repeat(30)}`));
      await send(page, `filler ${i}`);
      await page
        .locator('[data-role="assistant"][data-status="complete"]', { hasText: `Filler reply ${i}.` })
        .last()
        .waitFor();
    }
    const scroller = page.getByTestId('message-scroller');
    const atBottom = () =>
      scroller.evaluate((element) => element.scrollHeight - element.scrollTop - element.clientHeight < 90);
    expect(await atBottom()).toBe(true);

    await scroller.evaluate((element) => element.scrollTo({ top: 0 }));
    await page.getByTestId('jump-to-latest').waitFor();
    const before = await scroller.evaluate((element) => element.scrollTop);

    fake.enqueue(anthropicScenario.text('Arrived while you read.'));
    await api('POST', '/thread/messages', { content: 'from another device', clientId: `other-${Date.now()}` });
    await page
      .locator('[data-role="assistant"][data-status="complete"]', { hasText: 'Arrived while you read.' })
      .waitFor();
    expect(Math.abs((await scroller.evaluate((element) => element.scrollTop)) - before)).toBeLessThan(5);
    expect(Number(await page.getByTestId('unread-count').textContent())).toBeGreaterThanOrEqual(1);

    await page.getByTestId('jump-to-latest').click();
    await expect.poll(atBottom).toBe(true);
    await expect.poll(() => page.getByTestId('jump-to-latest').count()).toBe(0);
  });

  it('folds very long messages, the person’s and the reply, with “show more”, and leaves short ones whole', async () => {
    const { page } = await openChat({ viewport: MOBILE });
    const longReply = Array.from({ length: 40 }, (_, i) => `Paragraph ${i + 1} of a very long answer.`).join('\n\n');
    fake.enqueue(anthropicScenario.text(longReply));
    const longQuestion = Array.from({ length: 60 }, (_, i) => `line ${i + 1} of a pasted log`).join('\n');
    await send(page, longQuestion);
    const reply = messages(page, 'assistant', 'complete').filter({ hasText: 'Paragraph 40 of a very long answer.' });
    await reply.waitFor();
    const question = messages(page, 'user', 'complete').filter({ hasText: 'line 60 of a pasted log' });

    for (const message of [question, reply]) {
      const fold = message.getByTestId('folded');
      await expect.poll(() => fold.getAttribute('data-folded')).toBe('true');
      const folded = (await fold.boundingBox())!.height;
      expect(folded).toBeLessThanOrEqual(400);
      await message.getByRole('button', { name: 'show more' }).click();
      expect(await fold.getAttribute('data-folded')).toBe('false');
      expect((await fold.boundingBox())!.height).toBeGreaterThan(folded * 2);
      await message.getByRole('button', { name: 'show less' }).waitFor();
    }
    await screenshot(page, 'chat-long-message-unfolded');

    fake.enqueue(anthropicScenario.text('Short.'));
    await send(page, 'and a short one');
    const short = messages(page, 'assistant', 'complete').filter({ hasText: 'Short.' });
    await short.waitFor();
    expect(await short.getByRole('button', { name: 'show more' }).count()).toBe(0);
    expect(await short.getByTestId('folded').getAttribute('data-folded')).toBe('false');
  });
});
