import type { Readable } from 'node:stream';
import { logOutput } from '../output-lines.js';
import { spawnInSandbox } from '../sandbox-process.js';
import type { AgentOutcome, AgentRequest, AgentRuntime, RuntimeAvailability } from '../runtime.js';

/** How much of a failed command's output its error carries by default (the whole output is in the log). */
const ERROR_TAIL_LINES = 20;

/**
 * `command`: a shell command in the workspace. stdout and stderr are the log, line by line (each
 * cut at MAX_OUTPUT_LINE_BYTES; the log keeps the first and last lines of a long output); exit 0 is
 * success. No plan phase, no questions, no session: a run again runs it again.
 */
export class CommandRuntime implements AgentRuntime {
  readonly name = 'command';

  constructor(private readonly options: { shell?: string; tailLines?: number } = {}) {}

  async availability(): Promise<RuntimeAvailability> {
    return { available: true, reason: 'runs a shell command in the task’s workspace' };
  }

  async run(request: AgentRequest): Promise<AgentOutcome> {
    const command = request.command;
    if (!command) return { kind: 'failed', error: 'a command task needs a command' };
    request.log({ kind: 'system', text: `$ ${command}` });
    const child = spawnInSandbox(request.sandbox, this.options.shell ?? '/bin/sh', ['-c', command], {
      cwd: request.cwd,
      env: request.env,
      signal: request.signal,
    });
    const tail: string[] = [];
    const tailLines = this.options.tailLines ?? ERROR_TAIL_LINES;
    const follow = (stream: Readable, kind: 'stdout' | 'stderr') =>
      logOutput(stream, { kind, log: request.log, tail, tailLines });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
      child.once('error', (error) => resolve({ code: null, signal: null, error }));
      child.once('exit', (code, signal) => resolve({ code, signal }));
    });
    const [result] = await Promise.all([exited, follow(child.stdout, 'stdout'), follow(child.stderr, 'stderr')]);
    if (result.error) return { kind: 'failed', error: `could not start the command: ${result.error.message}` };
    if (request.signal.aborted) return { kind: 'failed', error: 'stopped' };
    if (result.code === 0) return { kind: 'done', summary: tail.slice(-3).join('\n') || undefined };
    const how = result.signal ? `was killed by ${result.signal}` : `exited with code ${result.code}`;
    return { kind: 'failed', error: `the command ${how}${tail.length ? `:\n${tail.join('\n')}` : ''}` };
  }
}
