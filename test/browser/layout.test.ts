import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../support/server.js';
import { DESKTOP, MOBILE, newContext, screenshot, signIn, startAppWithOwner } from './browser.js';

describe('app layout (browser)', () => {
  let server: TestServer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  let app: Awaited<ReturnType<typeof startAppWithOwner>> | undefined;

  beforeAll(async () => {
    app = await startAppWithOwner();
    ({ server, browser } = app);
  });

  afterAll(async () => {
    for (const context of contexts) await context.close();
    await app?.close();
  });

  async function signedInPage(viewport: { width: number; height: number }) {
    const context = await newContext(browser, server.url, { viewport, hasTouch: viewport === MOBILE });
    contexts.push(context);
    await signIn(context);
    const page = await context.newPage();
    await page.goto('/');
    await page.getByTestId('chat-pane').waitFor();
    return page;
  }

  it('on a phone: a bottom tab bar, Chat first and selected, switching to Inbox and back', async () => {
    const page = await signedInPage(MOBILE);
    const tabBar = page.getByTestId('tab-bar');
    const chat = page.getByTestId('chat-pane');
    const inbox = page.getByTestId('inbox-pane');
    const tabs = page.getByRole('tab');

    expect(await tabBar.isVisible()).toBe(true);
    expect((await tabs.allTextContents()).map((text) => text.trim())).toEqual(['Chat', 'Inbox']);
    expect(await tabs.nth(0).getAttribute('aria-selected')).toBe('true');
    expect(await chat.isVisible()).toBe(true);
    expect(await inbox.isVisible()).toBe(false);
    expect(await chat.textContent()).toContain('Your conversation with mainloop will appear here');

    // at the bottom of the screen, with thumb-sized targets
    const bar = (await tabBar.boundingBox())!;
    expect(bar.y + bar.height).toBeGreaterThan(MOBILE.height - 2);
    for (const tab of await tabs.all()) expect((await tab.boundingBox())!.height).toBeGreaterThanOrEqual(44);
    const settingsLink = (await page.getByRole('link', { name: 'Settings' }).boundingBox())!;
    expect(Math.min(settingsLink.width, settingsLink.height)).toBeGreaterThanOrEqual(44);
    await screenshot(page, 'mobile-chat');

    await page.getByRole('tab', { name: 'Inbox' }).click();
    expect(await tabs.nth(1).getAttribute('aria-selected')).toBe('true');
    expect(await tabs.nth(0).getAttribute('aria-selected')).toBe('false');
    expect(await inbox.isVisible()).toBe(true);
    expect(await chat.isVisible()).toBe(false);
    await inbox.getByTestId('needs-you').waitFor();
    expect(await inbox.textContent()).toContain('Nothing needs you');
    await screenshot(page, 'mobile-inbox');

    await page.getByRole('tab', { name: 'Chat' }).click();
    expect(await chat.isVisible()).toBe(true);
    expect(await inbox.isVisible()).toBe(false);
  });

  it('on a desktop: chat and inbox side by side, inbox on the right, no tab bar', async () => {
    const page = await signedInPage(DESKTOP);
    expect(await page.getByTestId('tab-bar').isVisible()).toBe(false);
    const chat = (await page.getByTestId('chat-pane').boundingBox())!;
    const inbox = (await page.getByTestId('inbox-pane').boundingBox())!;
    expect(chat.width).toBeGreaterThan(inbox.width);
    expect(inbox.x).toBeGreaterThanOrEqual(chat.x + chat.width - 1);
    expect(Math.abs(inbox.y - chat.y)).toBeLessThan(2);
    const status = page.getByTestId('connection-status');
    expect(await status.isVisible()).toBe(true);
    expect((await status.textContent())?.trim()).not.toBe('');
    await screenshot(page, 'desktop');

    await page.getByRole('link', { name: 'Settings' }).click();
    await page.waitForURL('**/settings');
    await page.getByTestId('theme-select').waitFor();
    await screenshot(page, 'desktop-settings');
  });
});
