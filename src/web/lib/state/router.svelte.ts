import { isRouterClick, matchRoute, routeParams, type RouteName } from '../router/routes.js';

/** The current location as reactive state, moved with the history API. */
export class Router {
  pathname = $state('/');
  search = $state('');
  readonly route: RouteName | undefined = $derived(matchRoute(this.pathname));
  /** the route's `:name` segments, e.g. `{id}` on /tasks/:id */
  readonly params: Record<string, string> = $derived(routeParams(this.pathname));

  readonly #window: Window;

  constructor(target: Window) {
    this.#window = target;
    this.#sync();
  }

  /** Listen to back/forward and take over same-origin link clicks; returns the stop function. */
  start(): () => void {
    const onPopState = () => this.#sync();
    const onClick = (event: MouseEvent) => {
      const anchor = (event.target as Element | null)?.closest?.('a');
      if (!anchor || !isRouterClick(event, anchor, this.#window.location.origin)) return;
      event.preventDefault();
      const url = new URL(anchor.href);
      this.navigate(url.pathname + url.search);
    };
    this.#window.addEventListener('popstate', onPopState);
    this.#window.document.addEventListener('click', onClick);
    return () => {
      this.#window.removeEventListener('popstate', onPopState);
      this.#window.document.removeEventListener('click', onClick);
    };
  }

  navigate(path: string, options: { replace?: boolean } = {}): void {
    const current = this.#window.location.pathname + this.#window.location.search;
    if (path !== current) {
      if (options.replace) this.#window.history.replaceState(null, '', path);
      else this.#window.history.pushState(null, '', path);
    }
    this.#sync();
    if (!options.replace) this.#window.scrollTo(0, 0);
  }

  param(name: string): string | null {
    return new URLSearchParams(this.search).get(name);
  }

  #sync(): void {
    this.pathname = this.#window.location.pathname;
    this.search = this.#window.location.search;
  }
}
