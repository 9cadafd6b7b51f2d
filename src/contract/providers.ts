import { z } from 'zod';

/** GET /api/providers: which model provider the main thread uses, and why each one is or is not available. */

export const ProviderName = z.enum(['anthropic', 'openai-compatible', 'claude-subscription']);
export type ProviderName = z.infer<typeof ProviderName>;

export const ProviderAvailability = z.object({
  name: ProviderName,
  available: z.boolean(),
  /** why it is or is not available; when not, what to set and where */
  reason: z.string(),
});
export type ProviderAvailability = z.infer<typeof ProviderAvailability>;

/** The sandbox tasks run in: `bubblewrap`, `none` (MAINLOOP_SANDBOX=none: unconfined), or `unavailable` (no task runs). */
export const SandboxStatus = z.object({
  kind: z.enum(['bubblewrap', 'none', 'unavailable']),
  /** a sentence or two for a person: what confines tasks, or why nothing does and what to do */
  summary: z.string(),
  /** how to install bubblewrap, when it is missing */
  install: z.string().optional(),
});
export type SandboxStatus = z.infer<typeof SandboxStatus>;

export const ProvidersResponse = z.object({
  /** the provider the main thread uses; null when none is (the chat then says what to set) */
  active: z
    .object({
      provider: ProviderName,
      /** null: the server picks (an OpenAI-compatible server without MAINLOOP_MODEL) */
      model: z.string().nullable(),
    })
    .nullable(),
  /** MAINLOOP_MODEL_PROVIDER as set: a provider, `auto` or `none` */
  setting: z.string(),
  /** a sentence or two for a person: what is used, or why nothing is and what to set */
  summary: z.string(),
  providers: z.array(ProviderAvailability),
  /** the agent runtimes workers can use, whether each is available here and why not */
  runtimes: z.array(
    z.object({
      name: z.enum(['claude-code', 'codex', 'command']),
      available: z.boolean(),
      reason: z.string(),
      /** the runtime a task gets when it names none */
      default: z.boolean(),
    }),
  ),
  /** the sandbox in force for every task */
  sandbox: SandboxStatus,
});
export type ProvidersResponse = z.infer<typeof ProvidersResponse>;
