import { isResponseSerializationError } from 'fastify-type-provider-zod';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SettingsResponse } from '../../contract/settings.js';
import { isDirectional, serializerCompiler } from './serializer.js';

const serialize = (schema: z.ZodType) =>
  serializerCompiler({ schema, method: 'GET', url: '/api/x', httpStatus: '200' });

const IsoDate = z.codec(z.iso.datetime(), z.date(), {
  decode: (text) => new Date(text),
  encode: (date) => date.toISOString(),
});

describe('isDirectional', () => {
  it('is false for plain data shapes, however nested', () => {
    expect(isDirectional(SettingsResponse)).toBe(false);
    type Tree = { name: string; children: Tree[] };
    const Tree: z.ZodType<Tree> = z.lazy(() => z.object({ name: z.string(), children: z.array(Tree) }));
    const shapes = z.object({
      list: z.array(z.object({ id: z.string(), at: z.iso.datetime().nullable() })),
      kind: z.discriminatedUnion('type', [z.object({ type: z.literal('a') }), z.object({ type: z.literal('b') })]),
      map: z.record(z.string(), z.number().optional()),
      anything: z.unknown(),
      tree: Tree,
    });
    expect(isDirectional(shapes)).toBe(false);
  });

  it('is true when a transform, codec, default or catch sits anywhere inside', () => {
    expect(isDirectional(z.object({ at: IsoDate }))).toBe(true);
    expect(isDirectional(z.object({ items: z.array(z.object({ n: z.number().default(0) })) }))).toBe(true);
    expect(isDirectional(z.union([z.string(), z.string().transform((text) => text.length)]))).toBe(true);
    expect(isDirectional(z.lazy(() => z.object({ n: z.number().catch(0) })))).toBe(true);
  });
});

describe('serializerCompiler', () => {
  it('writes what the schema describes and drops what it does not', () => {
    const value = { settings: { theme: 'nord', timeZone: 'UTC', secret: 'x' }, extra: 1 };
    expect(serialize(SettingsResponse)(value)).toBe('{"settings":{"theme":"nord","timeZone":"UTC"}}');
  });

  it('refuses an answer that does not match its schema', () => {
    let error: unknown;
    try {
      serialize(SettingsResponse)({ settings: { theme: 'hot-pink', timeZone: 'UTC' } });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(Error);
    expect(isResponseSerializationError(error as Error)).toBe(true);
  });

  it('encodes through codecs as zod’s encode does', () => {
    const schema = z.object({ at: IsoDate });
    expect(serialize(schema)({ at: new Date('2026-03-01T12:00:00Z') })).toBe('{"at":"2026-03-01T12:00:00.000Z"}');
  });
});
