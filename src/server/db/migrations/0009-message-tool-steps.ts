/**
 * A reply keeps the tool calls its turn made and what each returned, with where in its text each
 * was made, so that later turns show the model its past actions as tool calls and results rather
 * than as prose (docs/decisions/0021-past-tool-calls.md). Null: the reply called no tool.
 */
export const sql = /* sql */ `
alter table messages add column tool_steps jsonb;
`;
