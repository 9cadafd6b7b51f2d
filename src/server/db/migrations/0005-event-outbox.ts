/**
 * Events numbered at commit (decision 0005): a transaction's events wait in `event_outbox` and a
 * deferred trigger numbers and publishes them when it commits, so the user's counter row is
 * locked for the commit only, not from the event's statement to the client's COMMIT.
 */
export const sql = /* sql */ `
-- A transaction's events until it commits; never holds a committed row (the trigger below
-- moves each one at commit), so unlogged: nothing of it needs to survive a crash.
create unlogged table event_outbox (
  id bigint generated always as identity primary key,
  user_id text not null,
  type text not null,
  data jsonb not null,
  -- the NOTIFY payload but for the id (event.repository.ts)
  notice text not null
);

-- At commit, in the order they were written: each event takes the next id of its user's counter
-- (locking it until the commit is done, so one user's events commit in id order), is stored and
-- notified.
create function event_outbox_publish() returns trigger language plpgsql as $$
declare
  event_id bigint;
begin
  delete from event_outbox where id = new.id;
  insert into event_streams as stream (user_id, last_id) values (new.user_id, 1)
    on conflict (user_id) do update set last_id = stream.last_id + 1
    returning last_id into event_id;
  insert into events (user_id, id, type, data) values (new.user_id, event_id, new.type, new.data);
  perform pg_notify('mainloop_events', '{"id":"' || event_id || '",' || new.notice);
  return null;
end $$;

create constraint trigger event_outbox_publish after insert on event_outbox
  deferrable initially deferred for each row execute function event_outbox_publish();
`;
