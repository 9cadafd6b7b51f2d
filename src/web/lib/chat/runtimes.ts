import type { Runtime } from '../../../contract/tasks.js';

/**
 * The agent runtimes a task can run on, for the proposal form. The contract's `RUNTIMES` is the
 * source of truth, but importing a value from `contract/tasks.ts` pulls zod into the bundle
 * (its schemas call methods on other schemas, which the build cannot prove pure: +25 kB gzip).
 * The checks below fail the type check when the two lists drift apart.
 */
export const RUNTIME_OPTIONS = ['claude-code', 'codex', 'command'] as const satisfies readonly Runtime[];

type Missing = Exclude<Runtime, (typeof RUNTIME_OPTIONS)[number]>;
const everyRuntimeListed: [Missing] extends [never] ? true : Missing = true;
void everyRuntimeListed;
