/**
 * Issue 14: nothing that waits on the person can be put away by accident (decision 0012).
 * - Pending proposals are inbox items (`kind = 'proposal'`, `proposal_id`), made and resolved with
 *   their proposals; those pending now get theirs.
 * - Plan and review items no longer offer `done` (their task would vanish from view); those the
 *   person marked done while their task still waits on them are open again.
 */
export const sql = /* sql */ `
alter table inbox_items drop constraint inbox_items_kind_check;
alter table inbox_items add constraint inbox_items_kind_check check (kind in
  ('question', 'plan_review', 'review', 'failure', 'stuck', 'proposal', 'notification', 'external'));
alter table inbox_items add column proposal_id text references proposals (id) on delete cascade;
create index inbox_items_proposal on inbox_items (proposal_id) where state <> 'done';

insert into inbox_items
  (id, user_id, kind, priority, title, body, url, source, project_id, proposal_id, dedupe_key, replies, created_at, updated_at)
select gen_random_uuid()::text, p.user_id, 'proposal', 'high',
       case when p.kind = 'spawn_task' then 'Proposed: ' || (p.payload->>'title')
            else 'Proposed: cancel “' || coalesce(t.title, p.task_id, 'a task') || '”' end,
       case when p.kind = 'spawn_task' then left(p.payload->>'prompt', 500) else p.payload->>'reason' end,
       case when p.kind = 'cancel_task' and p.task_id is not null then '/tasks/' || p.task_id end,
       'thread',
       coalesce(p.payload->>'projectId', t.project_id),
       p.id,
       'proposal:' || p.id,
       case when p.kind = 'cancel_task' and p.task_id is not null
            then '["confirm", "dismiss", "open", "snooze"]' else '["confirm", "dismiss", "snooze"]' end::jsonb,
       p.created_at, now()
  from proposals p left join tasks t on t.id = p.task_id
 where p.status = 'pending';

update inbox_items set replies = replies - 'done'
 where kind in ('plan_review', 'review') and state <> 'done';

update inbox_items item
   set state = 'open', done_at = null, resolution = null, updated_at = now(), replies = item.replies - 'done'
  from (
    select distinct on (i.user_id, i.dedupe_key) i.id
      from inbox_items i join tasks t on t.id = i.task_id
     where i.state = 'done' and i.resolution = 'person'
       and (   (i.kind = 'plan_review' and t.status = 'awaiting_plan_approval')
            or (i.kind = 'review' and t.status = 'awaiting_review')
            or (i.kind = 'question' and exists
                  (select 1 from questions q where q.id = i.question_id and q.status = 'open')))
       and not exists (select 1 from inbox_items live
                        where live.user_id = i.user_id and live.dedupe_key = i.dedupe_key and live.state <> 'done')
     order by i.user_id, i.dedupe_key, i.created_at desc
  ) waiting
 where item.id = waiting.id;
`;
