import createDOMPurify, { type Config, type WindowLike } from 'dompurify';

/**
 * The one sanitizer for HTML that reaches the DOM from anything but our own templates: model
 * replies, tool output, worker reports, all of them rendered from markdown first. An allowlist
 * of harmless formatting tags and attributes; links only to http(s) and mailto, opening in a new
 * tab without a handle on this one; classes only those our renderer and the highlighter write
 * (a class like `fixed inset-0` could otherwise lay text over the app).
 */
const ALLOWED_TAGS = [
  'a',
  'b',
  'blockquote',
  'br',
  'code',
  'del',
  'div',
  'em',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'hr',
  'i',
  'kbd',
  'li',
  'ol',
  'p',
  'pre',
  's',
  'span',
  'strong',
  'sub',
  'sup',
  'table',
  'tbody',
  'td',
  'th',
  'thead',
  'tr',
  'ul',
];
const ALLOWED_ATTR = ['href', 'title', 'class', 'align', 'start', 'aria-hidden'];

const SAFE_PROTOCOLS = new Set(['http:', 'https:', 'mailto:']);
const SAFE_CLASS = /^(?:hljs(?:-[\w-]+)?|language-[\w+#.-]+|ml-[\w-]+)$/;

const CONFIG: Config & { RETURN_DOM?: false; RETURN_DOM_FRAGMENT?: false } = {
  ALLOWED_TAGS,
  ALLOWED_ATTR,
  // Checked against every attribute value except the URI-safe ones below: only href carries a URL here.
  ALLOWED_URI_REGEXP: /^(?:https?|mailto):/i,
  ADD_URI_SAFE_ATTR: ['align', 'start', 'aria-hidden'],
  ALLOW_DATA_ATTR: false,
  ALLOW_UNKNOWN_PROTOCOLS: false,
  // Keep the text of what is removed (an <iframe>'s fallback, a <form>'s labels), never its markup.
  KEEP_CONTENT: true,
};

export type Sanitize = (html: string) => string;

export function createSanitizer(window: WindowLike): Sanitize {
  const purify = createDOMPurify(window);
  purify.addHook('afterSanitizeAttributes', (node) => {
    const element = node as Element;
    if (typeof element.getAttribute !== 'function') return;
    const classes = element.getAttribute('class');
    if (classes !== null) {
      const kept = classes.split(/\s+/).filter((name) => SAFE_CLASS.test(name));
      if (kept.length > 0) element.setAttribute('class', kept.join(' '));
      else element.removeAttribute('class');
    }
    if (element.nodeName === 'A') {
      const href = element.getAttribute('href');
      if (href !== null && !isSafeHref(href)) element.removeAttribute('href');
      if (element.hasAttribute('href')) {
        element.setAttribute('target', '_blank');
        element.setAttribute('rel', 'noopener noreferrer');
      }
    }
  });
  return (html) => purify.sanitize(html, CONFIG) as string;
}

/** Only absolute http(s) and mailto URLs; everything else (javascript:, data:, vbscript:, relative paths) is dropped. */
export function isSafeHref(href: string): boolean {
  try {
    return SAFE_PROTOCOLS.has(new URL(href.trim()).protocol);
  } catch {
    return false;
  }
}
