import type { WindowLike } from 'dompurify';
import { createMarkdownRenderer, type Highlight, type MarkdownRenderer } from './markdown.js';

export { createMarkdownRenderer, escapeHtml, type Highlight, type MarkdownRenderer } from './markdown.js';
export { createSanitizer, isSafeHref, type Sanitize } from './sanitize.js';
export { FrameThrottle } from './frame-throttle.js';

/**
 * The highlighter (highlight.js and its languages, about a third of the markdown code) is
 * loaded the first time a reply has a fenced code block; until then code shows plain, and
 * `SafeMarkdown` renders again once it is here.
 */
let highlight: Highlight | undefined;
let loading: Promise<void> | undefined;
let plainRenderer: MarkdownRenderer | undefined;
let highlightingRenderer: MarkdownRenderer | undefined;

export function highlighterReady(): boolean {
  return highlight !== undefined;
}

export function loadHighlighter(): Promise<void> {
  loading ??= import('./highlight.js').then(
    (module) => {
      highlight = module.highlightCode;
    },
    (error: unknown) => {
      loading = undefined; // offline before it was cached: try again next time
      throw error;
    },
  );
  return loading;
}

/** Whether `source` has a fenced code block (worth loading the highlighter for). */
export function hasCodeFence(source: string): boolean {
  return /^ {0,3}(```|~~~)/m.test(source);
}

/** Markdown from a model, a tool or a worker, as sanitized HTML for this page (the only way such text becomes HTML). */
export function renderMarkdown(source: string): string {
  const target = window as unknown as WindowLike;
  if (highlight) {
    highlightingRenderer ??= createMarkdownRenderer({ window: target, highlight });
    return highlightingRenderer.render(source);
  }
  plainRenderer ??= createMarkdownRenderer({ window: target });
  return plainRenderer.render(source);
}
