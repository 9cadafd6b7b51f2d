import type { EventData } from '../../../contract/index.js';

type Counts = EventData<'inbox.updated'>['counts'];

/** What the inbox holds, as counts; the inbox feature fills in the items later. */
export class InboxState {
  counts: Counts = $state({ needsYou: 0, active: 0, failures: 0 });

  receive(counts: Counts): void {
    this.counts = counts;
  }
}
