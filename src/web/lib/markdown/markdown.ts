import type { WindowLike } from 'dompurify';
import { Marked, type Tokens } from 'marked';
import { createSanitizer, type Sanitize } from './sanitize.js';

/** Turns code into highlighted HTML (already escaped), or undefined when it does not know the language. */
export type Highlight = (code: string, language: string) => string | undefined;

export interface MarkdownRenderer {
  /** Markdown in, sanitized HTML out: the only kind of HTML the chat puts into the DOM. */
  render(source: string): string;
}

/**
 * GitHub-flavoured markdown (tables, task lists, strikethrough, autolinks) rendered by marked,
 * then always passed through the sanitizer. Raw HTML in the source is shown as text, not
 * interpreted (the sanitizer would make it harmless anyway; shown as text it also stays
 * readable); images become links (no request leaves the page because a reply says so);
 * fenced code is highlighted when the language is known.
 */
export function createMarkdownRenderer(options: { window: WindowLike; highlight?: Highlight }): MarkdownRenderer {
  const sanitize: Sanitize = createSanitizer(options.window);
  const highlight = options.highlight;
  const marked = new Marked({
    gfm: true,
    breaks: false,
    async: false,
    renderer: {
      code({ text, lang }: Tokens.Code): string {
        const language = (lang ?? '').match(/^[\w+#.-]*/)?.[0]?.toLowerCase() ?? '';
        const highlighted = language && highlight ? highlight(text, language) : undefined;
        const body = highlighted ?? escapeHtml(text);
        const label = language ? `<span class="ml-code-lang">${escapeHtml(language)}</span>` : '';
        const languageClass = highlighted ? ` language-${language}` : '';
        return `<div class="ml-code"><div class="ml-code-bar">${label}</div><pre><code class="hljs${languageClass}">${body}</code></pre></div>\n`;
      },
      html(token: Tokens.HTML | Tokens.Tag): string {
        const text = escapeHtml(token.text);
        return token.block ? `<p>${text}</p>\n` : text;
      },
      image({ href, text }: Tokens.Image): string {
        const label = escapeHtml(text || href);
        return `<a href="${escapeHtml(href)}" class="ml-image-link"><span aria-hidden="true">[img]</span> ${label}</a>`;
      },
      checkbox({ checked }: Tokens.Checkbox): string {
        return `<span class="ml-task${checked ? ' ml-task-done' : ''}" aria-hidden="true">${checked ? '[x]' : '[ ]'}</span> `;
      },
    },
  });
  return {
    render(source: string): string {
      return sanitize(marked.parse(source, { async: false }));
    },
  };
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => ESCAPES[character]!);
}
