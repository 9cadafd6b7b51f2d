import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MOBILE, newContext, screenshot, startAppWithOwner, type Api, type AppWithOwner } from './browser.js';

/**
 * The chat with no model provider configured (MAINLOOP_MODEL_PROVIDER=none): the app says so
 * plainly, still keeps what the person writes, and every turn is answered without a model, so
 * this file can also fill a long history cheaply for infinite scroll.
 */

interface WireMessage {
  id: string;
  role: string;
  content: string;
  status: string;
}

describe('chat without a model provider (browser)', () => {
  let app: AppWithOwner | undefined;
  const api: Api = (method, url, body) => app!.api(method, url, body);
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    app = await startAppWithOwner({ env: { MAINLOOP_MODEL_PROVIDER: 'none' } });
  });

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => {});
    await app?.close();
  });

  async function openChat(viewport?: { width: number; height: number }): Promise<Page> {
    const context = await newContext(app!.browser, app!.server.url, {
      storageState: app!.signedIn,
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
    expect(await answer.getByTestId('reply-error').textContent()).toContain(
      'No model provider is configured: this message was not answered.',
    );
    // What to set is said once, in the note above the composer (its markdown rendered), not in
    // each reply and again in its error as well.
    await page.getByTestId('composer-input').fill('still there?');
    await page.getByTestId('composer-input').press('Enter');
    await expect.poll(async () => page.getByTestId('reply-error').count(), { timeout: 20_000 }).toBe(2);
    const chat = (await page.getByTestId('chat-pane').textContent()) ?? '';
    expect(chat.split('ANTHROPIC_API_KEY')).toHaveLength(2);
    expect(chat).not.toContain('`');
    expect(await banner.locator('code').count()).toBeGreaterThan(0);
    await screenshot(page, 'chat-no-provider-mobile');

    const { messages } = await api<{ messages: WireMessage[] }>('GET', '/thread/messages?limit=10');
    expect(messages.filter((message) => message.content === 'is anyone there?')).toHaveLength(1);
    expect(messages.filter((message) => message.content === 'still there?')).toHaveLength(1);
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
