/**
 * A project may let its tasks reach the internet (docs/decisions/0019-task-sandbox.md): its command
 * tasks and checks have no network otherwise, and its agents only their model API.
 */
export const sql = /* sql */ `
alter table projects add column allow_network boolean not null default false;
`;
