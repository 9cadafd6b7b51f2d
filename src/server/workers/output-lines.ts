import { Transform, type Readable } from 'node:stream';
import type { AgentLogEntry } from './runtime.js';

/**
 * The longest line of a process's output that goes into a task's log, in bytes; the rest of a
 * longer one is counted and dropped. With its note it stays within the log's MAX_LOG_LINE.
 */
export const MAX_OUTPUT_LINE_BYTES = 4_096;

/**
 * The longest line of an agent CLI's JSON stream (Claude Code's, Codex's). A message carries at
 * most a few MB (an image is at most 5 MB, base64 a third more); a longer line is no message, and
 * the run fails rather than hold it.
 */
export const MAX_PROTOCOL_LINE_BYTES = 32 * 1024 * 1024;

/** One line of output, read as bytes: at most its reader's cap, and how many bytes of it were dropped. */
export interface OutputLine {
  text: string;
  /** bytes of the line dropped after the cap; 0 when it is whole */
  cut: number;
}

const LF = 0x0a;
const CR = 0x0d;

/**
 * Splits bytes into lines as readline does (a line ends at \n, \r\n or a lone \r), holding at
 * most `maxLineBytes` of any line: the rest is counted, never held, so one endless line costs no
 * memory (readline held it whole, and 600 MB of it threw `RangeError: Invalid string length`).
 * The one line splitter of the workers: command output, the agents' stderr and their JSON streams.
 */
export class LineSplitter {
  private held: Buffer[] = [];
  private heldBytes = 0;
  private cut = 0;
  /** the last chunk ended with \r: a \n at the start of the next one ends no line */
  private afterCR = false;

  constructor(
    private readonly maxLineBytes: number,
    private readonly onLine: (line: OutputLine) => void,
  ) {}

  /** Bytes of the line not ended yet (held and dropped). */
  get pending(): number {
    return this.heldBytes + this.cut;
  }

  push(chunk: Buffer): void {
    let start = this.afterCR && chunk[0] === LF ? 1 : 0;
    this.afterCR = false;
    // Each found once per chunk (searching again from every line would be quadratic).
    let nextLF = chunk.indexOf(LF, start);
    let nextCR = chunk.indexOf(CR, start);
    while (start < chunk.length) {
      if (nextLF !== -1 && nextLF < start) nextLF = chunk.indexOf(LF, start);
      if (nextCR !== -1 && nextCR < start) nextCR = chunk.indexOf(CR, start);
      const end = nextLF === -1 ? nextCR : nextCR === -1 ? nextLF : Math.min(nextLF, nextCR);
      if (end === -1) {
        this.hold(chunk.subarray(start));
        return;
      }
      if (this.pending === 0 && end - start <= this.maxLineBytes) {
        this.onLine({ text: chunk.toString('utf8', start, end), cut: 0 });
      } else {
        this.hold(chunk.subarray(start, end));
        this.emit();
      }
      start = end + 1;
      if (end === nextCR) {
        if (start === chunk.length) this.afterCR = true;
        else if (chunk[start] === LF) start++;
      }
    }
  }

  /** The input ended: a last line without its newline is a line too. */
  end(): void {
    if (this.pending > 0) this.emit();
  }

  private hold(bytes: Buffer): void {
    const kept = Math.min(bytes.length, this.maxLineBytes - this.heldBytes);
    if (kept > 0) {
      // A copy: a view would keep the whole chunk alive until the line ends.
      this.held.push(Buffer.from(bytes.subarray(0, kept)));
      this.heldBytes += kept;
    }
    this.cut += bytes.length - kept;
  }

  private emit(): void {
    const bytes = Buffer.concat(this.held, this.heldBytes);
    // A character cut in two at the cap goes with the rest.
    const whole = this.cut > 0 ? wholeCharacters(bytes) : bytes.length;
    this.onLine({ text: bytes.toString('utf8', 0, whole), cut: this.cut + bytes.length - whole });
    this.held = [];
    this.heldBytes = 0;
    this.cut = 0;
  }
}

/** The line as a log shows it: a cut one says how much of it was left out. */
export function withCutNote(line: OutputLine): string {
  return line.cut ? `${line.text} … [${line.cut.toLocaleString('en-US')} more bytes cut]` : line.text;
}

/**
 * Reads `input` line by line (LineSplitter); resolves once it has ended, or failed. When `onLine`
 * answers a promise (the log is behind), the input is paused until it settles: the process's
 * output waits in its pipe, and the process itself once the pipe is full (see SandboxProcess).
 */
export function readLines(
  input: Readable,
  options: { maxLineBytes: number; onLine: (line: OutputLine) => void | Promise<void> },
): Promise<void> {
  return new Promise((resolve) => {
    let waits: Array<Promise<void>> = [];
    const splitter = new LineSplitter(options.maxLineBytes, (line) => {
      const wait = options.onLine(line);
      if (wait) waits.push(wait);
    });
    const settled = () => {
      const pending = Promise.allSettled(waits).then(() => {});
      waits = [];
      return pending;
    };
    input.on('data', (chunk: Buffer) => {
      splitter.push(chunk);
      if (!waits.length) return;
      input.pause();
      void settled().then(() => input.resume());
    });
    input.once('end', () => {
      splitter.end();
      void settled().then(resolve);
    });
    input.once('error', () => resolve());
    input.once('close', () => {
      if (!input.readableEnded) resolve();
    });
  });
}

/**
 * Reads a process's stdout or stderr into its log (`log`, as AgentRequest's), line by line, each cut
 * at MAX_OUTPUT_LINE_BYTES, keeping its last `tailLines` lines in `tail` (for the message of a
 * failure); waits while the log is behind. `skipBlank`: blank lines are not logged.
 */
export function logOutput(
  input: Readable,
  options: {
    kind: 'stdout' | 'stderr';
    log: (entry: AgentLogEntry) => void | Promise<void>;
    tail: string[];
    tailLines: number;
    skipBlank?: boolean;
  },
): Promise<void> {
  const { kind, log, tail, tailLines } = options;
  return readLines(input, {
    maxLineBytes: MAX_OUTPUT_LINE_BYTES,
    onLine: (line) => {
      const text = withCutNote(line);
      if (options.skipBlank && !text.trim()) return;
      tail.push(text);
      if (tail.length > tailLines) tail.shift();
      return log({ kind, text });
    },
  });
}

/**
 * Passes a line protocol's bytes through as they are, and fails (`LineTooLong`) at the first line
 * longer than `maxLineBytes`, before passing any of it on: what reads it after (the Agent SDK's
 * readline) never holds a longer one.
 */
export function limitLineLength(maxLineBytes: number): Transform {
  let longest = 0;
  // Holds nothing: it only measures the lines.
  const splitter = new LineSplitter(0, (line) => (longest = Math.max(longest, line.cut)));
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      splitter.push(chunk);
      const length = Math.max(longest, splitter.pending);
      if (length > maxLineBytes) return callback(new LineTooLong(maxLineBytes));
      callback(null, chunk);
    },
  });
}

/**
 * An agent CLI's JSON stream, as its reader should see it: through limitLineLength. At a line
 * longer than MAX_PROTOCOL_LINE_BYTES the reader gets the error, `input` is let go (nothing more of
 * it is read or held) and `onTooLong` is called with what happened (`a line longer than 32 MB`),
 * to stop the process and say why.
 */
export function protocolStream(input: Readable, onTooLong: (what: string) => void): Readable {
  const limited = input.pipe(limitLineLength(MAX_PROTOCOL_LINE_BYTES));
  limited.once('error', (error) => {
    input.unpipe(limited);
    input.destroy();
    onTooLong(error.message);
  });
  return limited;
}

export class LineTooLong extends Error {
  constructor(readonly maxLineBytes: number) {
    super(`a line longer than ${formatBytes(maxLineBytes)}`);
    this.name = 'LineTooLong';
  }
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${Math.round(bytes / (1024 * 1024))} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} kB`;
  return `${bytes} bytes`;
}

/** The length of `bytes` without a UTF-8 character cut short at its end. */
function wholeCharacters(bytes: Buffer): number {
  let lead = bytes.length - 1;
  while (lead >= 0 && bytes.length - lead < 4 && ((bytes[lead] ?? 0) & 0xc0) === 0x80) lead--;
  if (lead < 0) return bytes.length;
  const first = bytes[lead] ?? 0;
  const size = first >= 0xf0 ? 4 : first >= 0xe0 ? 3 : first >= 0xc0 ? 2 : 1;
  return lead + size > bytes.length ? lead : bytes.length;
}
