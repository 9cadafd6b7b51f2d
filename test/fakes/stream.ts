import type { ModelStreamEvent } from '../../src/server/models/index.js';

/** Every event of a model stream, in order, and the error it ended with (if any). */
export async function drain(
  stream: AsyncIterable<ModelStreamEvent>,
): Promise<{ events: ModelStreamEvent[]; error: unknown }> {
  const events: ModelStreamEvent[] = [];
  try {
    for await (const event of stream) events.push(event);
    return { events, error: undefined };
  } catch (error) {
    return { events, error };
  }
}

/** Every event of a model stream that must succeed. */
export async function collect(stream: AsyncIterable<ModelStreamEvent>): Promise<ModelStreamEvent[]> {
  const { events, error } = await drain(stream);
  if (error) throw error;
  return events;
}

export const textOf = (events: ModelStreamEvent[]) =>
  events.flatMap((event) => (event.type === 'text-delta' ? [event.text] : []));
