/**
 * Short task references and what a merge brought in (issue 14): each of a user's tasks gets the
 * next number of theirs (`#12`), given at creation from `task_numbers`, the tasks made before
 * numbered in the order they were made; `merge` keeps what approving a task merged into its
 * project (the commit, the files), which the task page shows once the workspace is gone. The
 * thread's notes about tasks are reworded as history, with the number, as new ones are written
 * (`Task #12 “…”: ready for review`, not `… is ready for review.` beside a task completed since).
 */
export const sql = /* sql */ `
alter table tasks add column number integer;
update tasks set number = numbered.number
  from (select id, row_number() over (partition by user_id order by created_at, id) as number from tasks) numbered
  where tasks.id = numbered.id;
alter table tasks alter column number set not null;
alter table tasks add constraint tasks_user_number unique (user_id, number);

-- Each user's last task number: the row is taken (and locked) by the transaction that creates a task.
create table task_numbers (
  user_id text primary key references users (id) on delete cascade,
  last integer not null
);
insert into task_numbers (user_id, last) select user_id, max(number) from tasks group by user_id;

alter table tasks add column merge jsonb;

update messages set content =
  regexp_replace(regexp_replace(regexp_replace(regexp_replace(
    regexp_replace(messages.content, '^Task “', 'Task #' || tasks.number || ' “'),
    '” is ready for review\\.$', '”: ready for review'),
    '” has a plan waiting for your approval\\.$', '”: plan ready for approval'),
    '” has a question for you\\.$', '”: asked a question'),
    '” failed\\.$', '” failed')
  from tasks
  where messages.role = 'event' and messages.task_id = tasks.id and messages.content like 'Task “%';
`;
