import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { limitLineLength, LineSplitter, LineTooLong, readLines, withCutNote, type OutputLine } from './output-lines.js';

function split(chunks: Array<string | Buffer>, maxLineBytes = 100): OutputLine[] {
  const lines: OutputLine[] = [];
  const splitter = new LineSplitter(maxLineBytes, (line) => lines.push(line));
  for (const chunk of chunks) splitter.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  splitter.end();
  return lines;
}

const texts = (lines: OutputLine[]) => lines.map((line) => line.text);

describe('LineSplitter', () => {
  it('ends lines at \\n, \\r\\n and a lone \\r, as readline does, also across chunks', () => {
    expect(texts(split(['one\ntwo\r\nthree\rfour']))).toEqual(['one', 'two', 'three', 'four']);
    expect(texts(split(['on', 'e\r', '\ntw', 'o\n', '\n']))).toEqual(['one', 'two', '']);
    expect(texts(split(['a\r', '\r', 'b']))).toEqual(['a', '', 'b']);
  });

  it('keeps at most the cap of a line and counts the rest, however long the line', () => {
    const lines = split(['x'.repeat(60), 'y'.repeat(60), 'z'.repeat(1_000_000), '\nnext\n'], 100);
    expect(lines).toEqual([
      { text: 'x'.repeat(60) + 'y'.repeat(40), cut: 20 + 1_000_000 },
      { text: 'next', cut: 0 },
    ]);
    expect(withCutNote(lines[0]!)).toMatch(/ … \[1,000,020 more bytes cut\]$/);
  });

  it('never cuts a character in two at the cap', () => {
    // 'é' is two bytes: the 100th byte would be half of one
    const [line] = split([`${'a'.repeat(99)}é and more\n`], 100);
    expect(line).toEqual({ text: 'a'.repeat(99), cut: 2 + ' and more'.length });
    const [emoji] = split([`${'a'.repeat(98)}😀\n`], 100);
    expect(emoji).toEqual({ text: 'a'.repeat(98), cut: 4 });
  });

  it('decodes a character split across chunks', () => {
    const bytes = Buffer.from('née\n');
    expect(texts(split([bytes.subarray(0, 2), bytes.subarray(2)]))).toEqual(['née']);
  });
});

describe('readLines', () => {
  it('pauses its input while a line is being waited for', async () => {
    const input = Readable.from([Buffer.from('a\nb\n'), Buffer.from('c\n')], { objectMode: false });
    const seen: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const reading = readLines(input, {
      maxLineBytes: 100,
      onLine: (line) => {
        seen.push(line.text);
        if (line.text === 'a') return held;
      },
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    // the chunk that held the waiting line is read, the next one not yet
    expect(seen).toEqual(['a', 'b']);
    release();
    await reading;
    expect(seen).toEqual(['a', 'b', 'c']);
  });
});

describe('limitLineLength', () => {
  it('passes lines up to the cap as they are, and fails before passing on any of a longer one', async () => {
    const passed: Buffer[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        passed.push(chunk);
        callback();
      },
    });
    const chunks = ['{"a":1}\n{"b":', '2}\n', 'x'.repeat(30), 'y'.repeat(30)].map((text) => Buffer.from(text));
    await expect(pipeline(Readable.from(chunks), limitLineLength(50), sink)).rejects.toBeInstanceOf(LineTooLong);
    expect(Buffer.concat(passed).toString()).toBe(`{"a":1}\n{"b":2}\n${'x'.repeat(30)}`);
  });
});
