/* global __VERSION__, __PRECACHE__ */
/*
 * mainloop's service worker: the app shell works offline, and pushes show as notifications.
 * Built by the `mainloop-service-worker` plugin in vite.config.ts, which fills in the two
 * placeholders below: the built files to precache, and a version hashed from their contents.
 * - navigations: network first (fresh index.html when online), the cached shell when offline or
 *   when the server is down behind a proxy (5xx);
 * - built assets (content-hashed) and icons: cache first;
 * - /api/*: never touched, never cached (the page keeps its own copy of the inbox).
 * Push (payload: PushPayload in src/contract/push.ts): one notification per item (tag = item id,
 * so a second push for it replaces the first), with Approve / Reply where the platform shows
 * actions. Approve POSTs the decision from here with the session cookie (a same-origin request:
 * the API's origin check accepts it); anything else, or a failed approve, opens the item.
 */
const VERSION = __VERSION__;
const PRECACHE = __PRECACHE__;
const CACHE = `mainloop-shell-${VERSION}`;
const SHELL = '/index.html';

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(PRECACHE))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) =>
        Promise.all(
          keys.filter((key) => key.startsWith('mainloop-shell-') && key !== CACHE).map((key) => caches.delete(key)),
        ),
      )
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname === '/api' || url.pathname.startsWith('/api/')) return;

  if (request.mode === 'navigate') {
    event.respondWith(networkFirstShell(request));
    return;
  }
  event.respondWith(cacheFirst(request));
});

async function networkFirstShell(request) {
  try {
    const response = await fetch(request);
    // Only the app's page becomes the shell: not the manifest or an icon opened in a tab.
    if (response.ok && !response.redirected && isHtml(response)) {
      const cache = await caches.open(CACHE);
      await cache.put(SHELL, response.clone());
    }
    // mainloop down behind a proxy (502, 503, 504): the app, with what it kept, beats an error page.
    if (response.status >= 500) return (await caches.match(SHELL)) || response;
    return response;
  } catch (error) {
    const cached = await caches.match(SHELL);
    if (cached) return cached;
    throw error;
  }
}

function isHtml(response) {
  return (response.headers.get('content-type') || '').startsWith('text/html');
}

async function cacheFirst(request) {
  const cached = await caches.match(request);
  if (cached) return cached;
  return fetch(request);
}

self.addEventListener('push', (event) => {
  const data = readPayload(event);
  const actions = canShowActions() ? (data.actions || []).map(({ action, title }) => ({ action, title })) : [];
  event.waitUntil(
    self.registration.showNotification(data.title || 'mainloop', {
      body: data.body || '',
      tag: data.itemId || 'mainloop',
      renotify: true,
      icon: '/icons/icon-192.png',
      badge: '/icons/icon-192.png',
      data,
      actions,
    }),
  );
});

self.addEventListener('notificationclick', (event) => {
  const data = event.notification.data || {};
  event.notification.close();
  if (event.action === 'approve' && data.taskId) {
    event.waitUntil(approve(data).catch(() => openOrFocus(data.url)));
    return;
  }
  // "Reply" and a tap on the notification itself: the item, where the question or plan is.
  event.waitUntil(openOrFocus(data.url));
});

function readPayload(event) {
  if (!event.data) return {};
  try {
    return event.data.json();
  } catch {
    return { title: 'mainloop', body: event.data.text() };
  }
}

function canShowActions() {
  return typeof Notification !== 'undefined' && 'maxActions' in Notification && Notification.maxActions > 0;
}

/** POST /api/tasks/:id/plan (a plan) or /review (a review) {decision:"approve"}, as the signed-in person. */
async function approve(data) {
  const step = data.kind === 'plan_review' ? 'plan' : 'review';
  const response = await fetch(`/api/tasks/${encodeURIComponent(data.taskId)}/${step}`, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ decision: 'approve' }),
  });
  if (!response.ok) throw new Error(`approve answered ${response.status}`);
}

/** Focuses an open mainloop window (taking it to the item), or opens one. */
async function openOrFocus(url) {
  const target = new URL(url || '/', self.location.origin);
  if (target.origin !== self.location.origin) return self.clients.openWindow(target.href);
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const open = windows.find((client) => new URL(client.url).origin === self.location.origin);
  if (!open) return self.clients.openWindow(target.href);
  const focused = await open.focus();
  if (new URL(focused.url).pathname !== target.pathname && 'navigate' in focused) {
    return focused.navigate(target.href).catch(() => focused);
  }
  return focused;
}
