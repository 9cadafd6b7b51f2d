import { z } from 'zod';

/** `GET /api/health` when the server and its database answer (200). */
export const Health = z.object({ status: z.literal('ok'), version: z.string() });
export type Health = z.infer<typeof Health>;

/** `GET /api/health` while the server runs but cannot serve requests (503, with `Retry-After`): what is wrong. */
export const HealthUnavailable = z.object({
  status: z.literal('unavailable'),
  version: z.string(),
  /** the database does not answer (stopped, restarting, unreachable) */
  database: z.literal('down'),
});
export type HealthUnavailable = z.infer<typeof HealthUnavailable>;
