import type { FastifySerializerCompiler } from 'fastify';
import { InvalidSchemaError, ResponseSerializationError } from 'fastify-type-provider-zod';
import { z } from 'zod';

/** Schema kinds whose result differs between parsing (wire → value) and encoding (value → wire). */
const DIRECTIONAL = new Set(['pipe', 'transform', 'default', 'prefault', 'catch']);

/**
 * Every response is checked against its zod schema and written as JSON, as
 * fastify-type-provider-zod's serializer does; a mismatch is a ResponseSerializationError (a
 * logged 500). That serializer always runs zod's `encode`, which takes zod's slow path (two
 * passes, no compiled object parser): about 2 µs for a two-field object. For a schema with no
 * transform, codec, default or catch, `parse` accepts and returns exactly what `encode` would,
 * on zod's compiled fast path, so those schemas — every response schema today — use it.
 */
export const serializerCompiler: FastifySerializerCompiler<z.core.$ZodType | { properties: z.core.$ZodType }> = ({
  schema: maybeSchema,
  method,
  url,
}) => {
  const schema = resolveSchema(maybeSchema);
  // Chosen at the route's first response: walking every route's schema at start-up costs it tens of ms.
  let check: ((data: unknown) => z.ZodSafeParseResult<unknown>) | undefined;
  return (data) => {
    check ??= isDirectional(schema)
      ? (value: unknown) => z.safeEncode(schema, value)
      : (value: unknown) => z.safeParse(schema, value);
    const result = check(data);
    if (result.error) throw new ResponseSerializationError(method, url, { cause: result.error });
    return JSON.stringify(result.data);
  };
};

function resolveSchema(maybeSchema: z.core.$ZodType | { properties: z.core.$ZodType }): z.core.$ZodType {
  if (maybeSchema instanceof z.core.$ZodType) return maybeSchema;
  if ('properties' in maybeSchema && maybeSchema.properties instanceof z.core.$ZodType) return maybeSchema.properties;
  throw new InvalidSchemaError(JSON.stringify(maybeSchema));
}

/** Whether the schema, or any schema inside it, reads differently in the two directions. */
export function isDirectional(schema: z.core.$ZodType, seen = new Set<unknown>()): boolean {
  if (seen.has(schema)) return false;
  seen.add(schema);
  const internals = schema._zod;
  if (DIRECTIONAL.has(internals.def.type)) return true;
  const inner = internals.def.type === 'lazy' ? [(internals as { innerType?: unknown }).innerType] : [];
  return [...inner, ...Object.values(internals.def)].some((value) => containsDirectional(value, seen));
}

function containsDirectional(value: unknown, seen: Set<unknown>): boolean {
  if (value instanceof z.core.$ZodType) return isDirectional(value, seen);
  if (Array.isArray(value)) return value.some((item) => containsDirectional(item, seen));
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.values(value).some((item) => containsDirectional(item, seen));
  }
  return false;
}
