import type { StoredEvent } from './event.repository.js';

/**
 * The bytes of one event on the wire, encoded once and written as they are to every
 * connection that should see it (a Buffer: no per-connection re-encoding or length scan).
 */
export function eventFrame(event: Pick<StoredEvent, 'id' | 'type' | 'data'>): Buffer {
  // JSON never contains a raw newline, so the data always fits on one `data:` line.
  return Buffer.from(`id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event.data)}\n\n`);
}

/** Sent first: how long an EventSource waits before it reconnects. */
export function retryFrame(retryMs: number): string {
  return `retry: ${retryMs}\n\n`;
}

/**
 * Sent to a stream that starts from now: no event, but it gives the client the id to resume
 * after (an EventSource remembers it as its Last-Event-ID), so an early disconnect loses nothing.
 */
export function resumeFrame(id: string): string {
  return `id: ${id}\n\n`;
}

export const HEARTBEAT_FRAME = Buffer.from(': ping\n\n');
