import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { ownerApi } from '../support/tasks.js';

/**
 * Attack (issue 13, point 6): text Postgres refuses. `\u0000` in a request answered 500 on eleven
 * routes. Now input with it is refused (400, naming the field).
 */
let server: TestServer;
let owner: ReturnType<typeof ownerApi>;

beforeAll(async () => {
  server = await startTestServer({ env: { MAINLOOP_MODEL_PROVIDER: 'none' } });
  owner = ownerApi(server);
}, 60_000);
afterAll(async () => {
  await server?.close();
});

describe('input with characters Postgres refuses', () => {
  const REFUSED = { NUL: 'a\u0000b', 'a lone surrogate': 'a\ud800b' };

  it.each(Object.entries(REFUSED))(
    'answers 400 naming the field for %s in any body field, path or query parameter of any route',
    async (_name, value) => {
      const failures: string[] = [];
      for (const attempt of await attempts(value)) {
        const response = await fetch(`${server.url}${attempt.url}`, {
          method: attempt.method,
          headers: {
            ...server.authHeaders,
            ...(attempt.body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          body: attempt.body === undefined ? undefined : JSON.stringify(attempt.body),
          signal: AbortSignal.timeout(10_000),
        }).catch((error: Error) => ({ status: 0, text: async () => error.message }));
        const text = await response.text();
        const answer = safeJson(text);
        if (
          response.status !== 400 ||
          answer?.code !== 'VALIDATION_FAILED' ||
          !answer.message.includes(attempt.field)
        ) {
          failures.push(`${attempt.method} ${attempt.url} ${attempt.field} → ${response.status} ${text.slice(0, 200)}`);
        }
      }
      expect(failures).toEqual([]);
    },
    120_000,
  );
});

type Schema = {
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  enum?: string[];
  format?: string;
  minItems?: number;
  minLength?: number;
  nullable?: boolean;
};

interface Attempt {
  method: string;
  url: string;
  body?: unknown;
  /** the field named in the answer */
  field: string;
}

/** Every operation of the OpenAPI document, with `value` in each of its path and query parameters and string body fields. */
async function attempts(value: string): Promise<Attempt[]> {
  const document = (await owner.call('GET', '/api/openapi.json')).json() as {
    paths: Record<
      string,
      Record<
        string,
        {
          parameters?: Array<{ in: string; name: string }>;
          requestBody?: { content: { 'application/json': { schema: Schema } } };
        }
      >
    >;
  };
  // A lone surrogate has no UTF-8 bytes: a URL cannot carry one, only a JSON body can.
  const inUrl = !value.includes('\ud800');
  const encoded = inUrl ? encodeURIComponent(value) : '';
  const list: Attempt[] = [];
  for (const [template, operations] of Object.entries(document.paths)) {
    for (const [verb, operation] of Object.entries(operations)) {
      const method = verb.toUpperCase();
      const parameters = operation.parameters ?? [];
      const schema = operation.requestBody?.content['application/json'].schema;
      const body = schema ? sample(schema) : undefined;
      const url = (replace?: string) =>
        template.replace(/\{([^}]+)\}/g, (_, name: string) =>
          name === replace ? encoded : '00000000-0000-4000-8000-000000000000',
        );
      for (const parameter of inUrl ? parameters : []) {
        if (parameter.in === 'path')
          list.push({ method, url: url(parameter.name), body, field: `params.${parameter.name}` });
        if (parameter.in === 'query') {
          list.push({
            method,
            url: `${url()}?${parameter.name}=${encoded}`,
            body,
            field: `querystring.${parameter.name}`,
          });
        }
      }
      if (schema) {
        for (const field of stringFields(schema)) {
          list.push({ method, url: url(), body: withValue(body, field, value), field: ['body', ...field].join('.') });
        }
      }
    }
  }
  return list;
}

/**
 * A value that fits `schema`, with every optional property present, so that the bad character is
 * all that is wrong with a request. (An enum's last value: a task's `runtime` is then `command`, which
 * takes the sample's `command`.)
 */
function sample(schema: Schema, name = ''): unknown {
  const chosen = schema.anyOf?.[0] ?? schema.oneOf?.[0];
  if (chosen) return sample(chosen, name);
  if (schema.enum) return schema.enum.at(-1);
  switch (schema.type) {
    case 'object':
      return Object.fromEntries(
        Object.entries(schema.properties ?? {}).map(([key, child]) => [key, sample(child, key)]),
      );
    case 'array':
      return Array.from({ length: schema.minItems ?? 1 }, () => sample(schema.items ?? { type: 'string' }));
    case 'number':
    case 'integer':
      return 1;
    case 'boolean':
      return false;
    default:
      if (schema.format === 'date-time') return new Date(Date.now() + 3_600_000).toISOString();
      if (/url|endpoint/i.test(name)) return 'https://example.com/hook';
      if (name === 'path') return '/tmp';
      if (name === 'timeZone') return 'Europe/Paris';
      return 'x'.repeat(Math.max(schema.minLength ?? 1, 8));
  }
}

/** The paths of the free-text string fields of `schema` (no enums), as `sample` fills them. */
function stringFields(schema: Schema, at: string[] = []): string[][] {
  const chosen = schema.anyOf?.[0] ?? schema.oneOf?.[0];
  if (chosen) return stringFields(chosen, at);
  if (schema.enum) return [];
  if (schema.type === 'object') {
    return Object.entries(schema.properties ?? {}).flatMap(([key, child]) => stringFields(child, [...at, key]));
  }
  if (schema.type === 'array') return stringFields(schema.items ?? {}, [...at, '0']);
  return schema.type === 'string' ? [at] : [];
}

function withValue(body: unknown, field: string[], value: string): unknown {
  if (field.length === 0) return value;
  const copy = structuredClone(body) as Record<string, unknown>;
  const [key, ...rest] = field;
  copy[key!] = withValue(copy[key!], rest, value);
  return copy;
}

function safeJson(text: string): { code?: string; message: string } | undefined {
  try {
    return JSON.parse(text) as { code?: string; message: string };
  } catch {
    return undefined;
  }
}
