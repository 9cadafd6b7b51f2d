import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestServer } from '../support/server.js';
import { newContext, screenshot, signIn, startAppWithOwner } from './browser.js';

/** Ends every open HTTP connection of the server, the event streams among them. */
function dropConnections(server: TestServer): void {
  const harness = server as TestServer & { dropEventStreams?: () => void };
  if (harness.dropEventStreams) harness.dropEventStreams();
  else server.app.server.closeAllConnections();
}

describe('connection indicator (browser)', () => {
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

  it('shows live, then reconnecting when the event stream drops, then live again', async () => {
    const context = await newContext(browser, server.url);
    await signIn(context);
    const page = await context.newPage();
    const status = page.getByTestId('connection-status');
    const state = (value: string) => page.locator(`[data-testid="connection-status"][data-state="${value}"]`);

    await page.goto('/');
    await state('live').waitFor();
    expect((await status.textContent())?.trim()).toBe('live');

    // The stream drops, and the server stays out of reach for a moment.
    await page.route('**/api/events**', (route) => route.abort('connectionrefused'));
    dropConnections(server);
    await state('reconnecting').waitFor();
    expect(await status.textContent()).toContain('reconnecting');
    await screenshot(page, 'connection-reconnecting');

    // Reachable again: the backoff's next try connects.
    await page.unroute('**/api/events**');
    await state('live').waitFor({ timeout: 15_000 });
    await context.close();
  });

  it('shows offline while the device is offline, and live again when it is back', async () => {
    const context = await newContext(browser, server.url);
    await signIn(context);
    const page = await context.newPage();
    await page.goto('/');
    await page.locator('[data-testid="connection-status"][data-state="live"]').waitFor();

    await context.setOffline(true);
    await page.locator('[data-testid="connection-status"][data-state="offline"]').waitFor();
    await context.setOffline(false);
    await page.locator('[data-testid="connection-status"][data-state="live"]').waitFor();
    await context.close();
  });

  it('installs a service worker that serves the app shell offline', async () => {
    const context = await newContext(browser, server.url, { serviceWorkers: 'allow' });
    await signIn(context);
    const page = await context.newPage();
    await page.goto('/');
    await page.getByTestId('chat-pane').waitFor();
    await page.evaluate(async () => {
      await navigator.serviceWorker.ready;
    });
    const manifest = await page.evaluate(async () => {
      const link = document.querySelector<HTMLLinkElement>('link[rel="manifest"]');
      return link ? ((await (await fetch(link.href)).json()) as { name: string; icons: unknown[] }) : undefined;
    });
    expect(manifest?.name).toBe('mainloop');
    expect(manifest?.icons.length).toBeGreaterThanOrEqual(4);

    await context.setOffline(true);
    await page.goto('/settings'); // a navigation with no network: the cached shell answers
    await expect(page.locator('body').textContent()).resolves.toContain('mainloop');
    expect(await page.evaluate(() => document.querySelector('#app')?.childElementCount ?? 0)).toBeGreaterThan(0);
    await context.close();
  });
});
