import type { SessionInfo } from '../../../contract/index.js';

/** The app's pages. Paths are the URLs; the server answers every non-/api path with index.html. */
export const ROUTES = {
  home: '/',
  signin: '/signin',
  setup: '/setup',
  settings: '/settings',
  task: '/tasks/:id',
} as const;
export type RouteName = keyof typeof ROUTES;

/** The page of one task. */
export function taskPath(id: string): string {
  return `/tasks/${encodeURIComponent(id)}`;
}

export interface Location {
  pathname: string;
  search: string;
}

export function matchRoute(pathname: string): RouteName | undefined {
  return match(pathname)?.name;
}

/** The `:name` segments of the route at `pathname`, decoded (`/tasks/a%2Fb` → `{id: 'a/b'}`). */
export function routeParams(pathname: string): Record<string, string> {
  return match(pathname)?.params ?? {};
}

function match(pathname: string): { name: RouteName; params: Record<string, string> } | undefined {
  const normalized = pathname.length > 1 ? pathname.replace(/\/+$/, '') : pathname;
  const segments = normalized.split('/');
  for (const [name, path] of Object.entries(ROUTES)) {
    const pattern = path.split('/');
    if (pattern.length !== segments.length) continue;
    const params: Record<string, string> = {};
    const matches = pattern.every((part, index) => {
      const segment = segments[index]!;
      if (!part.startsWith(':')) return part === segment;
      if (!segment) return false;
      try {
        params[part.slice(1)] = decodeURIComponent(segment);
        return true;
      } catch {
        return false; // a malformed escape is no page of ours
      }
    });
    if (matches) return { name: name as RouteName, params };
  }
  return undefined;
}

/**
 * Where the app must go instead of `location`, given the session; undefined to stay.
 * Signed out: the set-up page when the URL carries a set-up token or no owner exists yet,
 * else sign-in. Signed in: never the sign-in or set-up page, never an unknown path.
 */
export function redirectFor(location: Location, session: SessionInfo): string | undefined {
  const route = matchRoute(location.pathname);
  const token = new URLSearchParams(location.search).get('token');

  if (!session.user) {
    if (token) return route === 'setup' ? undefined : `${ROUTES.setup}?token=${encodeURIComponent(token)}`;
    if (session.setupRequired) return route === 'setup' ? undefined : ROUTES.setup;
    return route === 'signin' ? undefined : ROUTES.signin;
  }
  if (route === 'signin' || route === 'setup' || route === undefined) return ROUTES.home;
  return undefined;
}

/** Whether a click on `anchor` should be handled by the router instead of loading a page. */
export function isRouterClick(
  event: Pick<MouseEvent, 'button' | 'metaKey' | 'ctrlKey' | 'shiftKey' | 'altKey' | 'defaultPrevented'>,
  anchor: Pick<HTMLAnchorElement, 'href' | 'target' | 'hasAttribute'>,
  origin: string,
): boolean {
  if (event.defaultPrevented || event.button !== 0) return false;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return false;
  if (anchor.target && anchor.target !== '_self') return false;
  if (anchor.hasAttribute('download') || anchor.hasAttribute('data-native')) return false;
  let url: URL;
  try {
    url = new URL(anchor.href);
  } catch {
    return false;
  }
  return url.origin === origin && !url.pathname.startsWith('/api/') && url.pathname !== '/api';
}
