import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogEntry } from '../../src/contract/tasks.js';
import type { Message } from '../../src/contract/thread.js';
import { settledReply } from '../../src/server/thread/testing.js';
import { anthropicScenario, FakeAnthropicApi } from '../fakes/anthropic-api.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { ownerApi } from '../support/tasks.js';

/**
 * Attack (issue 13, point 6): text Postgres refuses. A task printing `a\0b` lost its log (22021),
 * its step used up its retries and the task stayed `implementing` for good, `retry` answering 409;
 * `\u0000` in a request answered 500 on eleven routes. Now input with it is refused (400, naming the
 * field), output has it replaced, and a step that fails for good fails its task, which a retry runs
 * again.
 */
let fake: FakeAnthropicApi;
let server: TestServer;
let owner: ReturnType<typeof ownerApi>;

beforeAll(async () => {
  fake = await FakeAnthropicApi.start();
  server = await startTestServer({ env: { ANTHROPIC_API_KEY: fake.apiKey, ANTHROPIC_BASE_URL: fake.url } });
  owner = ownerApi(server);
}, 60_000);
afterAll(async () => {
  await server?.close();
  await fake?.close(); // fails if the fake saw a request it was not scripted for
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

describe('model output with characters Postgres refuses', () => {
  it('the main thread keeps a reply and a tool call holding them, the characters replaced', async () => {
    fake.enqueue(
      anthropicScenario.toolCall({
        name: 'spawn_task',
        input: { title: 'Null \u0000 title', prompt: 'Half a pair: \ud800.' },
        text: ['Let me \u0000 start it.'],
      }),
      anthropicScenario.text('Proposed \u0000.'),
    );
    const posted = await owner.call('POST', '/api/thread/messages', { content: 'Start a task', clientId: 'nul-1' });
    expect(posted.statusCode).toBe(202);
    const reply = await settledReply(server, (posted.json().message as Message).id);
    expect(reply).toMatchObject({ status: 'complete', content: 'Let me \ufffd start it.\n\nProposed \ufffd.' });
    const proposals = (await owner.call('GET', '/api/proposals?status=pending')).json().proposals;
    expect(proposals.map((proposal: { payload: unknown }) => proposal.payload)).toContainEqual(
      expect.objectContaining({ title: 'Null \ufffd title', prompt: 'Half a pair: \ufffd.' }),
    );
  });
});

describe('tasks: output with characters Postgres refuses, and steps that fail for good', () => {
  it('a task printing NUL keeps its log (the NUL replaced) and completes', async () => {
    const task = await owner.createTask({
      title: 'NUL',
      prompt: 'x',
      runtime: 'command',
      command: "printf 'a\\0b\\n'",
    });
    await owner.waitForTask(task.id, (t) => t.status === 'completed', { failFast: true });
    expect((await logsOf(task.id)).map((entry) => entry.text)).toContain('a\uFFFDb');
  });

  it('a task failing with NUL in its error ends failed with the reason, and a retry runs it again', async () => {
    const task = await owner.createTask({
      title: 'NUL failure',
      prompt: 'x',
      runtime: 'command',
      command: `test -f "$HOME/go" && exit 0; printf 'a\\0b\\n'; exit 1`,
    });
    const failed = await owner.waitForTask(task.id, (t) => t.status === 'failed');
    expect(failed.error).toMatch(/exited with code 1[\s\S]*a\uFFFDb/);
    await writeFile(path.join(server.dataDir, 'homes', task.id, 'go'), '');
    const retried = await owner.call('POST', `/api/tasks/${task.id}/retry`);
    expect(retried.statusCode).toBe(200);
    await owner.waitForTask(task.id, (t) => t.status === 'completed', { failFast: true });
  });

  it('a task whose failure cannot be stored still ends failed, and a retry runs it again', async () => {
    // Postgres refusing the failure's own words (here a trigger; in the wild a byte it cannot store)
    await refuse('insert', 'task_logs', "new.text like '%poison%'", 'this database refuses the word');
    const task = await owner.createTask({
      title: 'Unstorable failure',
      prompt: 'x',
      runtime: 'command',
      command: 'test -f "$HOME/go" && exit 0; echo poison; exit 1',
    });
    const failed = await owner.waitForTask(task.id, (t) => t.status === 'failed', { timeout: 60_000 });
    expect(failed.error).toMatch(/could not be stored[\s\S]*refuses the word/);
    await writeFile(path.join(server.dataDir, 'homes', task.id, 'go'), '');
    const retried = await owner.call('POST', `/api/tasks/${task.id}/retry`);
    expect(retried.statusCode).toBe(200);
    const done = await owner.waitForTask(task.id, (t) => t.status === 'completed', { failFast: true });
    expect(done.attempt).toBe(2);
  }, 90_000);

  it('a task whose workflow fails outside a run (its retry cannot be taken) ends failed, and a later retry runs it', async () => {
    // Postgres refusing, for a while, to mark a decision taken
    await query('create table refuse_taking (since timestamptz)');
    await refuse(
      'update',
      'task_decisions',
      'new.taken_by is not null and exists (select 1 from refuse_taking)',
      'decisions cannot be taken now',
    );
    const task = await owner.createTask({
      title: 'Untakeable retry',
      prompt: 'x',
      runtime: 'command',
      command: 'test -f "$HOME/go" || exit 1',
    });
    await owner.waitForTask(task.id, (t) => t.status === 'failed');
    await query('insert into refuse_taking values (now())');
    expect((await owner.call('POST', `/api/tasks/${task.id}/retry`)).statusCode).toBe(200);
    const failed = await owner.waitForTask(task.id, (t) => t.status === 'failed' && t.attempt === 2, {
      timeout: 60_000,
    });
    expect(failed.error).toMatch(/decisions cannot be taken now/);
    await query('delete from refuse_taking');
    await writeFile(path.join(server.dataDir, 'homes', task.id, 'go'), '');
    expect((await owner.call('POST', `/api/tasks/${task.id}/retry`)).statusCode).toBe(200);
    await owner.waitForTask(task.id, (t) => t.status === 'completed', { failFast: true });
  }, 90_000);
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

async function logsOf(taskId: string): Promise<LogEntry[]> {
  return (await owner.call('GET', `/api/tasks/${taskId}/logs`)).json().entries;
}

/** Postgres refusing to write a row of `table` where `condition` holds (a trigger), with `message`. */
async function refuse(operation: 'insert' | 'update', table: string, condition: string, message: string) {
  const name = `refuse_${operation}_${table}`;
  await query(`
    create function ${name}() returns trigger language plpgsql as $$
    begin
      if ${condition} then raise exception '${message}'; end if;
      return new;
    end $$;
    create trigger ${name} before ${operation} on ${table} for each row execute function ${name}();`);
}

/** SQL on the server's own database, as the test cluster's superuser. */
async function query(sql: string): Promise<void> {
  const database = new pg.Client({ connectionString: server.testDatabase.url });
  await database.connect();
  try {
    await database.query(sql);
  } finally {
    await database.end();
  }
}
