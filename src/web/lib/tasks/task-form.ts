import type { ProvidersResponse, Runtime, TaskSpec } from '../../../contract/index.js';
import { RUNTIME_OPTIONS } from '../chat/runtimes.js';

/**
 * The task form (a proposal edited before it is confirmed, or a new task started from the inbox):
 * its fields, what it may not send, and the spec it sends. Plain TypeScript; ProposalEditor shows it.
 */

/** One runtime as `GET /api/providers` describes it. */
export type RuntimeInfo = ProvidersResponse['runtimes'][number];

/** A runtime as a picker offers it: only an available one can be chosen; the others say why not. */
export interface RuntimeChoice {
  name: Runtime;
  available: boolean;
  /** why it is not available (and what to do), when it is not */
  reason?: string;
  /** the runtime a task gets when it names none */
  isDefault: boolean;
}

/**
 * Each runtime, in the picker's order, with the server's word on whether it can run here. While
 * that is unknown (not asked yet, or the server could not say) every runtime is offered: the
 * server is the judge, and a form that offers nothing would be worse.
 */
export function runtimeChoices(described: readonly RuntimeInfo[] | undefined): RuntimeChoice[] {
  return RUNTIME_OPTIONS.map((name) => {
    const info = described?.find((runtime) => runtime.name === name);
    if (!described) return { name, available: true, isDefault: false };
    if (!info) return { name, available: false, reason: 'this server does not know it', isDefault: false };
    return {
      name,
      available: info.available,
      ...(info.available ? {} : { reason: info.reason }),
      isDefault: info.default,
    };
  });
}

export interface TaskForm {
  title: string;
  prompt: string;
  /** '' for the default project */
  projectId: string;
  /** '' for the server's default runtime */
  runtime: Runtime | '';
  model: string;
  command: string;
  /** the agent plans first and the person approves the plan (the inverse of `skipPlan`) */
  planFirst: boolean;
}

/** The form's fields for a spec (a proposal's payload, or a new task's defaults). */
export function formFromSpec(spec: Partial<TaskSpec> = {}): TaskForm {
  return {
    title: spec.title ?? '',
    prompt: spec.prompt ?? '',
    projectId: spec.projectId ?? '',
    runtime: spec.runtime ?? '',
    model: spec.model ?? '',
    command: spec.command ?? '',
    planFirst: !spec.skipPlan,
  };
}

/** The runtime the task would run on: the chosen one, else the default (undefined while unknown). */
export function effectiveRuntime(
  form: Pick<TaskForm, 'runtime'>,
  choices: readonly RuntimeChoice[],
): Runtime | undefined {
  return form.runtime || choices.find((choice) => choice.isDefault)?.name;
}

/** Whether the form offers the plan-first switch: a command has no plan phase. */
export function offersPlan(form: Pick<TaskForm, 'runtime'>, choices: readonly RuntimeChoice[]): boolean {
  return effectiveRuntime(form, choices) !== 'command';
}

/** Why the chosen runtime (or the default, when none is chosen) cannot run here; undefined when it can. */
export function runtimeProblem(form: Pick<TaskForm, 'runtime'>, choices: readonly RuntimeChoice[]): string | undefined {
  const name = effectiveRuntime(form, choices);
  const choice = choices.find((candidate) => candidate.name === name);
  if (!choice || choice.available) return undefined;
  const which = form.runtime ? choice.name : `The default runtime, ${choice.name},`;
  const reason = (choice.reason ?? 'it is not available').trim().replace(/\.$/, '');
  return `${which} cannot run here: ${reason}. Choose another runtime.`;
}

/** Whether the form can be sent: a title, a prompt, a command for a command task, a runtime that can run. */
export function canSend(form: TaskForm, choices: readonly RuntimeChoice[]): boolean {
  return (
    form.title.trim().length > 0 &&
    form.prompt.trim().length > 0 &&
    (form.runtime !== 'command' || form.command.trim().length > 0) &&
    runtimeProblem(form, choices) === undefined
  );
}

/**
 * The spec the form sends, on top of `base` (the proposal as proposed): what is empty is left out
 * (the server's default), a command only for a command task, `skipPlan: true` only when the
 * person turned planning off for a runtime that plans.
 */
export function specFromForm(
  form: TaskForm,
  choices: readonly RuntimeChoice[],
  base: Partial<TaskSpec> = {},
): TaskSpec {
  const command = form.runtime === 'command';
  const spec: TaskSpec = {
    ...base,
    title: form.title.trim(),
    prompt: form.prompt.trim(),
    projectId: form.projectId || undefined,
    runtime: form.runtime || undefined,
    model: form.model.trim() || undefined,
    command: command ? form.command.trim() : undefined,
    skipPlan: offersPlan(form, choices) && !form.planFirst ? true : undefined,
  };
  for (const key of Object.keys(spec) as Array<keyof TaskSpec>) if (spec[key] === undefined) delete spec[key];
  return spec;
}
