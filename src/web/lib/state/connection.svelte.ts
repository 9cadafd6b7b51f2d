import type { ConnectionStatus, EventStream } from '../events/event-stream.js';

/** The event stream's status as reactive state, for the header's indicator. */
export class ConnectionState {
  status: ConnectionStatus = $state('offline');
  readonly stream: EventStream;

  constructor(stream: EventStream) {
    this.stream = stream;
    this.status = stream.status;
    stream.onStatus((status) => (this.status = status));
  }

  start(): void {
    this.stream.start();
  }

  stop(): void {
    this.stream.stop();
  }
}
