import type { WindowLike } from 'dompurify';
import { JSDOM } from 'jsdom';
import { describe, expect, it } from 'vitest';
import { highlightCode } from './highlight.js';
import { createMarkdownRenderer } from './markdown.js';
import { createSanitizer, isSafeHref } from './sanitize.js';

// DOMPurify needs a real DOM parser; jsdom is the one DOMPurify itself is tested with.
const { window } = new JSDOM('<!doctype html><html><body></body></html>');
const domWindow = window as unknown as WindowLike;
const sanitize = createSanitizer(domWindow);
const markdown = createMarkdownRenderer({ window: domWindow, highlight: highlightCode });

/** Parses `html` and lists whatever could run or navigate somewhere unsafe. */
function dangers(html: string): string[] {
  const container = window.document.createElement('div');
  container.innerHTML = html;
  const found: string[] = [];
  for (const element of container.querySelectorAll('*')) {
    const tag = element.tagName.toLowerCase();
    if (
      [
        'script',
        'iframe',
        'style',
        'object',
        'embed',
        'svg',
        'math',
        'form',
        'img',
        'input',
        'link',
        'meta',
        'base',
      ].includes(tag)
    ) {
      found.push(`<${tag}>`);
    }
    for (const attribute of element.attributes) {
      const name = attribute.name.toLowerCase();
      if (name.startsWith('on')) found.push(`${tag}[${name}]`);
      if (name === 'style' || name === 'srcdoc' || name === 'id' || name === 'name') found.push(`${tag}[${name}]`);
      if (
        ['href', 'src', 'action', 'formaction', 'xlink:href'].includes(name) &&
        !/^(https?|mailto):/i.test(attribute.value)
      ) {
        found.push(`${tag}[${name}=${attribute.value}]`);
      }
    }
  }
  return found;
}

const PAYLOADS = [
  '<img src=x onerror=alert(1)>',
  '<svg onload=alert(1)><circle r=5 /></svg>',
  '<a href="javascript:alert(1)">click</a>',
  '<a href="  JaVaScRiPt:alert(1)">click</a>',
  '<a href="java&#x09;script:alert(1)">click</a>',
  '<a href="data:text/html,<script>alert(1)</script>">data</a>',
  '<a href="vbscript:msgbox(1)">vb</a>',
  '<iframe src="https://example.com" srcdoc="<script>alert(1)</script>"></iframe>',
  '<style>body{display:none}</style>',
  '<script>alert(1)</script>',
  '<div style="position:fixed;inset:0" onclick="alert(1)">cover</div>',
  '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>',
  '<form action="javascript:alert(1)"><button formaction="javascript:alert(1)">go</button></form>',
  '<details open ontoggle=alert(1)>',
  '<object data="javascript:alert(1)"></object><embed src="javascript:alert(1)">',
  '<p id="chat-pane" name="x">clobber</p>',
  '<base href="javascript:/"><meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
  '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
];

describe('sanitizer', () => {
  it.each(PAYLOADS)('removes everything that could run from %s', (payload) => {
    expect(dangers(sanitize(payload))).toEqual([]);
  });

  it('keeps safe links and opens them in a new tab without a handle on this page', () => {
    const html = sanitize('<a href="https://example.com/x?a=1">ok</a> <a href="mailto:ada@example.com">mail</a>');
    const container = window.document.createElement('div');
    container.innerHTML = html;
    const links = [...container.querySelectorAll('a')];
    expect(links.map((link) => link.getAttribute('href'))).toEqual([
      'https://example.com/x?a=1',
      'mailto:ada@example.com',
    ]);
    for (const link of links) {
      expect(link.getAttribute('target')).toBe('_blank');
      expect(link.getAttribute('rel')).toBe('noopener noreferrer');
    }
  });

  it('drops classes it did not write (no borrowing the app’s utility classes to cover the page)', () => {
    expect(sanitize('<span class="fixed inset-0 hljs-keyword">x</span>')).toBe('<span class="hljs-keyword">x</span>');
    expect(sanitize('<p class="absolute">x</p>')).toBe('<p>x</p>');
  });

  it('allows only absolute http(s) and mailto hrefs', () => {
    expect(isSafeHref('https://a.example')).toBe(true);
    expect(isSafeHref('mailto:a@b.example')).toBe(true);
    for (const href of [
      'javascript:alert(1)',
      ' javascript:alert(1)',
      'data:text/html,x',
      '/settings',
      '#top',
      'file:///etc/passwd',
    ]) {
      expect(isSafeHref(href)).toBe(false);
    }
  });
});

describe('markdown', () => {
  it('renders markdown links with unsafe schemes as plain text', () => {
    for (const source of [
      '[x](javascript:alert(1))',
      '[x](JAVASCRIPT:alert(1))',
      '[x](data:text/html;base64,PHNjcmlwdD4=)',
      '<javascript:alert(1)>',
    ]) {
      const html = markdown.render(source);
      expect(dangers(html), source).toEqual([]);
      expect(html).not.toMatch(/href="\s*(?:javascript|data):/i);
    }
    expect(markdown.render('[x](javascript:alert(1))')).not.toContain('href');
  });

  it.each(PAYLOADS)('shows raw HTML in a reply as text, never as markup: %s', (payload) => {
    const html = markdown.render(`Look: ${payload}\n\n${payload}`);
    expect(dangers(html)).toEqual([]);
    const container = window.document.createElement('div');
    container.innerHTML = html;
    expect(container.textContent).toContain(payload.slice(0, 12));
  });

  it('turns images into links, so no request leaves the page because a reply says so', () => {
    const html = markdown.render('![a cat](https://example.com/cat.png) ![x](javascript:alert(1))');
    expect(html).not.toContain('<img');
    expect(html).toContain('href="https://example.com/cat.png"');
    expect(dangers(html)).toEqual([]);
  });

  it('renders links, lists, tables, task lists and highlighted code', () => {
    const html = markdown.render(
      [
        'See [docs](https://example.com/docs) or https://example.org.',
        '',
        '- one',
        '- [x] done',
        '1. first',
        '',
        '| a | b |',
        '|---|:-:|',
        '| 1 | 2 |',
        '',
        '```ts',
        'const answer: number = 42;',
        '```',
      ].join('\n'),
    );
    expect(html).toContain('<a href="https://example.com/docs" target="_blank" rel="noopener noreferrer">docs</a>');
    expect(html).toContain('href="https://example.org"');
    expect(html).toContain('<ul>');
    expect(html).toContain('<ol>');
    expect(html).toContain('[x]');
    expect(html).toContain('<table>');
    expect(html).toMatch(/<th align="center">b<\/th>/);
    expect(html).toContain('<span class="hljs-keyword">const</span>');
    expect(html).toContain('<span class="ml-code-lang">ts</span>');
  });

  it('escapes code in a language it does not know, and in code with HTML in it', () => {
    const html = markdown.render('```klingon\n<img src=x onerror=alert(1)>\n```\n\n`<b>inline</b>`');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('<code>&lt;b&gt;inline&lt;/b&gt;</code>');
    expect(dangers(html)).toEqual([]);
  });

  it('copes with half a reply (an unclosed fence or table while streaming)', () => {
    expect(markdown.render('Here:\n\n```python\ndef f(')).toContain('<span class="hljs-keyword">def</span>');
    expect(() => markdown.render('| a | b |\n|--')).not.toThrow();
  });
});
