import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import {
  assertWebAppBuilt,
  launchChromium,
  MOBILE,
  newContext,
  screenshot,
  setUpOwner,
  signIn,
  WEB_ROOT,
} from './browser.js';

/**
 * The chat with no model provider configured (MAINLOOP_MODEL_PROVIDER=none): the app says so
 * plainly, still keeps what the person writes, and every turn is answered without a model, so
 * this file can also fill a long history cheaply for infinite scroll.
 *
 * Skipped while `POST /api/thread/messages` answers 404 (the server side of the thread has not landed).
 */

assertWebAppBuilt();
const harness = await startTestServer({ webRoot: WEB_ROOT, env: { MAINLOOP_MODEL_PROVIDER: 'none' } });
const probe = await fetch(`${harness.url}/api/thread/messages`, {
  method: 'POST',
  headers: { ...harness.authHeaders, 'content-type': 'application/json' },
  body: JSON.stringify({}),
});
const serverHasThread = probe.status !== 404;
if (!serverHasThread) await harness.close();

interface WireMessage {
  id: string;
  role: string;
  content: string;
  status: string;
}

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${harness.url}/api${path}`, {
    method,
    headers: { ...harness.authHeaders, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

describe.skipIf(!serverHasThread)('chat without a model provider (browser)', () => {
  const server: TestServer = harness;
  let browser: Browser;
  /** the owner's session cookie, signed in once (sign-in is rate limited) and shared by every context */
  let signedIn: BrowserContextOptions['storageState'];
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    if (!server.setupToken) throw new Error('the test server offered no set-up token');
    await setUpOwner(server.url, server.setupToken);
    browser = await launchChromium();
    const context = await newContext(browser, server.url);
    await signIn(context);
    signedIn = await context.storageState();
    await context.close();
  });

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await browser?.close();
    await server.close();
  });

  async function openChat(viewport?: { width: number; height: number }): Promise<Page> {
    const context = await newContext(browser, server.url, {
      storageState: signedIn,
      ...(viewport ? { viewport, hasTouch: viewport === MOBILE } : {}),
    });
    contexts.push(context);
    const page = await context.newPage();
    await page.goto('/');
    await page.locator('[data-testid="connection-status"][data-state="live"]').waitFor();
    return page;
  }

  it('says plainly that no model is connected and what to set, and still keeps what is written', async () => {
    const page = await openChat(MOBILE);
    const banner = page.getByTestId('no-provider');
    await banner.waitFor();
    expect(await banner.textContent()).toMatch(/MAINLOOP_MODEL_PROVIDER|ANTHROPIC_API_KEY/);

    await page.getByTestId('composer-input').fill('is anyone there?');
    await page.getByTestId('composer-input').press('Enter');
    await page
      .locator('[data-testid="message"][data-role="user"][data-status="complete"]', { hasText: 'is anyone there?' })
      .waitFor();
    const answer = page.locator('[data-testid="message"][data-role="assistant"]:not([data-status="streaming"])').last();
    await answer.waitFor({ timeout: 20_000 });
    expect(await answer.textContent()).toMatch(/model/i);
    await screenshot(page, 'chat-no-provider-mobile');

    const { messages } = await api<{ messages: WireMessage[] }>('GET', '/thread/messages?limit=10');
    expect(messages.filter((message) => message.content === 'is anyone there?')).toHaveLength(1);
  });

  it('shows in the settings page that no provider is active, and why each one is not', async () => {
    const page = await openChat();
    await page.goto('/settings');
    await expect.poll(() => page.getByTestId('active-provider').textContent()).toBe('none');
    expect(await page.getByTestId('model-provider').textContent()).toContain('ANTHROPIC_API_KEY');
  });

  it('loads older messages as the person scrolls up, without moving what is on screen', async () => {
    for (let i = 0; i < 40; i++) {
      await api('POST', '/thread/messages', {
        content: `history ${String(i).padStart(2, '0')}`,
        clientId: `history-${i}`,
      });
    }
    // every turn is answered (without a model): wait until the last one is
    await expect
      .poll(
        async () => {
          const { messages } = await api<{ messages: WireMessage[] }>('GET', '/thread/messages?limit=5');
          return messages.at(-1)?.role === 'assistant' && messages.at(-1)?.status !== 'streaming';
        },
        { timeout: 30_000 },
      )
      .toBe(true);

    const page = await openChat();
    const rendered = page.locator('[data-testid="message"]');
    await rendered.last().waitFor();
    const firstCount = await rendered.count();
    expect(await page.getByText('history 00', { exact: true }).count()).toBe(0); // not in the latest page

    const scroller = page.getByTestId('message-scroller');
    // at the top, the older page loads in above what is on screen, which stays where it was
    const anchor = await scroller.evaluate((element) => {
      element.scrollTo({ top: 0 });
      const first = element.querySelector<HTMLElement>('[data-testid="message"][data-message-id]')!;
      return {
        id: first.dataset.messageId!,
        y: first.getBoundingClientRect().top - element.getBoundingClientRect().top,
      };
    });
    await expect.poll(() => rendered.count()).toBeGreaterThan(firstCount);
    await page.waitForTimeout(300);
    const y = await scroller.evaluate(
      (element, id) =>
        element.querySelector(`[data-message-id="${id}"]`)!.getBoundingClientRect().top -
        element.getBoundingClientRect().top,
      anchor.id,
    );
    expect(Math.abs(y - anchor.y)).toBeLessThan(5);

    for (let i = 0; i < 10 && (await page.getByText('history 00', { exact: true }).count()) === 0; i++) {
      await scroller.evaluate((element) => element.scrollTo({ top: 0 }));
      await page.waitForTimeout(300);
    }
    expect(await rendered.count()).toBeGreaterThan(firstCount);
    await page.getByText('history 00', { exact: true }).waitFor();
  });
});
