import { createHmac } from 'node:crypto';
import type { Priority } from '../../contract/inbox.js';

/** What a channel shows: a title, a line of text, where a tap leads. */
export interface ChannelMessage {
  title: string;
  text: string;
  priority: Priority;
  /** an absolute URL (mainloop's own pages are made absolute with its public URL) */
  clickUrl?: string;
  tags: string[];
}

const NTFY_PRIORITY: Record<Priority, string> = { urgent: '5', high: '4', normal: '3', low: '2' };

/**
 * The person's outbound channels, each one POST speaking that service's own API:
 * - ntfy: the text as the body, with `Title`, `Priority` (1–5), `Click` and `Tags` headers
 *   (non-ASCII header values as RFC 2047 encoded-words, which ntfy decodes);
 * - Slack incoming webhook: `{text, blocks}`;
 * - a generic webhook: the JSON body, signed `X-Mainloop-Signature: sha256=<hex HMAC-SHA256 of
 *   the raw body>` with the person's secret, and `X-Mainloop-Timestamp` (Unix seconds).
 * No redirects are followed (a 3xx is a failure), and each call is cut off after `timeoutMs`.
 */
export class OutboundChannels {
  constructor(private readonly options: { timeoutMs?: number; fetch?: typeof fetch; now?: () => Date } = {}) {}

  async ntfy(url: string, message: ChannelMessage): Promise<void> {
    const headers: Record<string, string> = {
      'content-type': 'text/plain; charset=utf-8',
      title: headerValue(message.title),
      priority: NTFY_PRIORITY[message.priority],
    };
    if (message.clickUrl) headers.click = message.clickUrl;
    if (message.tags.length) headers.tags = headerValue(message.tags.join(','));
    await this.post(url, headers, message.text);
  }

  async slack(url: string, message: ChannelMessage): Promise<void> {
    const title = message.clickUrl ? `<${message.clickUrl}|${slackEscape(message.title)}>` : slackEscape(message.title);
    const text = `${title}${message.text && message.text !== message.title ? `\n${slackEscape(message.text)}` : ''}`;
    const body = {
      text,
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text: clip(text, 2_900) } }],
    };
    await this.post(url, { 'content-type': 'application/json' }, JSON.stringify(body));
  }

  async webhook(url: string, secret: string | undefined, body: unknown): Promise<void> {
    const raw = JSON.stringify(body);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'x-mainloop-timestamp': String(Math.floor((this.options.now?.() ?? new Date()).getTime() / 1000)),
    };
    if (secret) headers['x-mainloop-signature'] = signature(secret, raw);
    await this.post(url, headers, raw);
  }

  private async post(url: string, headers: Record<string, string>, body: string): Promise<void> {
    const response = await (this.options.fetch ?? fetch)(url, {
      method: 'POST',
      headers,
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
    });
    const text = await response.text().catch(() => '');
    if (response.status < 200 || response.status >= 300) {
      throw new Error(`${new URL(url).host} answered ${response.status}${text ? `: ${clip(text, 200)}` : ''}`);
    }
  }
}

/** `sha256=<hex>`: what a receiver recomputes over the raw body with the shared secret. */
export function signature(secret: string, rawBody: string): string {
  return `sha256=${createHmac('sha256', secret).update(rawBody).digest('hex')}`;
}

/** HTTP header values are Latin-1 at best: anything beyond ASCII goes as an RFC 2047 encoded-word. */
function headerValue(value: string): string {
  const flat = value.replace(/[\r\n]+/g, ' ');
  return /^[\x20-\x7e]*$/.test(flat) ? flat : `=?UTF-8?B?${Buffer.from(flat, 'utf8').toString('base64')}?=`;
}

function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function clip(text: string, length: number): string {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}
