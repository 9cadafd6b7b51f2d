import type { QuestionOption } from '../../contract/questions.js';
import type { LogKind, Runtime } from '../../contract/tasks.js';
import type { Usage } from '../../contract/thread.js';
import type { EgressRoute } from './egress-proxy.js';
import type { Sandbox } from './sandbox.js';

/**
 * The seam between a task's workflow and the agent that does its work. One file per agent
 * (src/server/workers/runtimes/*.ts) implements AgentRuntime; adding an agent CLI is a new file
 * there and a line in the registry, never a change to the workflow.
 *
 * A run is one stretch of the agent's work that ends in an outcome the workflow acts on: a
 * plan to approve, questions for the person, work done, or a failure. No process outlives a
 * run: between runs (while the person thinks about a plan or a question, for hours or days)
 * nothing is held but the session id, and the next run resumes that session.
 */
export interface AgentRuntime {
  readonly name: Runtime;
  /** whether this runtime can run here, and if not, what to install or set (GET /api/providers) */
  availability(): Promise<RuntimeAvailability>;
  /** the hosts its runs must reach (its model API), the only ones the sandbox lets it reach besides a project's allowance */
  egress?(): EgressRoute[];
  run(request: AgentRequest): Promise<AgentOutcome>;
}

export interface RuntimeAvailability {
  available: boolean;
  /** a sentence for a person: what it uses, or what is missing and how to fix it */
  reason: string;
}

export interface AgentRequest {
  taskId: string;
  /**
   * `plan`: read-only; the run should end with a plan (outcome `plan`) or questions.
   * `implement`: edits allowed in the workspace; ends with `done`, questions or a failure.
   */
  mode: 'plan' | 'implement';
  /** what to tell the agent now: the task, the person's feedback or answers, a failed check's output */
  prompt: string;
  /** the session to resume (from an earlier outcome of this task); undefined starts a new one */
  sessionId?: string;
  /** the model to use; undefined: the runtime's default */
  model?: string;
  /** the `command` runtime's shell command */
  command?: string;
  /** the task's workspace: the agent's working directory and the only place it may write */
  cwd: string;
  /** mainloop's own directory for this task (a runtime's bookkeeping): never shown to the task */
  stateDir: string;
  /**
   * The agent process's whole environment, already scrubbed: PATH, LANG, TERM, TMPDIR and a HOME
   * of the task's own; never the server's secrets or database URL. A runtime adds the
   * credentials it needs (see `credentials` of its options), nothing else.
   */
  env: Record<string, string>;
  /** every process the runtime starts goes through this (bubblewrap unless MAINLOOP_SANDBOX=none); files the runtime makes in the HOME are given to its user with `sandbox.adopt` */
  sandbox: Sandbox;
  /** aborted on cancel or on the step's time limit: end the whole process tree, then resolve */
  signal: AbortSignal;
  /**
   * One line of what the agent does, in order: stored, streamed as `task.log`. A promise when the
   * log is behind: who reads a process's output waits for it before reading on (see readLines).
   */
  log(entry: AgentLogEntry): void | Promise<void>;
}

export interface AgentLogEntry {
  kind: LogKind;
  text: string;
}

/** A question the agent asks the person; several asked at once are answered together. */
export interface AskedQuestion {
  header?: string;
  text: string;
  options: QuestionOption[];
  multiSelect: boolean;
}

interface OutcomeBase {
  /** the agent's session, to resume in the next run of this task */
  sessionId?: string;
  /** what this run cost, as the runtime reports it */
  usage?: Usage;
}

export type AgentOutcome =
  | (OutcomeBase & { kind: 'done'; summary?: string })
  | (OutcomeBase & { kind: 'plan'; plan: string })
  | (OutcomeBase & { kind: 'question'; questions: AskedQuestion[] })
  | (OutcomeBase & { kind: 'failed'; error: string });
