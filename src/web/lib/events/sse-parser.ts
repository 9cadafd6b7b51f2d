/**
 * An incremental parser for the `text/event-stream` format (WHATWG HTML, "server-sent
 * events"). Feed it decoded text as it arrives; it returns what each chunk completed.
 * Comment lines are reported too: the server's heartbeat is a comment, and the event
 * stream treats it as a sign of life.
 */
export type SseItem =
  | { kind: 'event'; event: string; data: string; id: string | undefined }
  /** A block with an `id:` but no data: per the spec it still moves the last event id. */
  | { kind: 'id'; id: string }
  | { kind: 'comment'; text: string }
  | { kind: 'retry'; milliseconds: number };

export class SseParser {
  #buffer = '';
  #data: string[] = [];
  #event = '';
  #id: string | undefined;
  #sawField = false;
  #started = false;
  /** The last chunk ended in CR: an LF at the start of the next chunk belongs to it. */
  #pendingCr = false;

  push(chunk: string): SseItem[] {
    let text = chunk;
    if (!this.#started && text.length > 0) {
      this.#started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (this.#pendingCr && text.startsWith('\n')) text = text.slice(1);
    this.#pendingCr = false;
    this.#buffer += text;

    const items: SseItem[] = [];
    let start = 0;
    for (let index = 0; index < this.#buffer.length; index++) {
      const char = this.#buffer[index];
      if (char !== '\n' && char !== '\r') continue;
      this.#line(this.#buffer.slice(start, index), items);
      if (char === '\r') {
        if (index + 1 === this.#buffer.length) this.#pendingCr = true;
        else if (this.#buffer[index + 1] === '\n') index++;
      }
      start = index + 1;
    }
    this.#buffer = this.#buffer.slice(start);
    return items;
  }

  #line(line: string, items: SseItem[]): void {
    if (line === '') {
      this.#dispatch(items);
      return;
    }
    if (line.startsWith(':')) {
      items.push({ kind: 'comment', text: line.slice(1).replace(/^ /, '') });
      return;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);

    switch (field) {
      case 'data':
        this.#data.push(value);
        this.#sawField = true;
        break;
      case 'event':
        this.#event = value;
        this.#sawField = true;
        break;
      case 'id':
        if (!value.includes('\0')) this.#id = value;
        this.#sawField = true;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) items.push({ kind: 'retry', milliseconds: Number(value) });
        break;
      default:
        break;
    }
  }

  #dispatch(items: SseItem[]): void {
    if (this.#sawField && this.#data.length > 0) {
      items.push({ kind: 'event', event: this.#event || 'message', data: this.#data.join('\n'), id: this.#id });
    } else if (this.#id !== undefined) {
      items.push({ kind: 'id', id: this.#id });
    }
    this.#data = [];
    this.#event = '';
    this.#id = undefined;
    this.#sawField = false;
  }
}
