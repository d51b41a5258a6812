-- Referrals share a room per sender and recipient, each a thread. A member's answer names an
-- event (its thread's root, the message it replies or reacts to); finding the referral behind
-- that event must not scan: each delivered event keeps its Task id, indexed by event.
ALTER TABLE matrix_deliveries ADD COLUMN task_id text;
UPDATE matrix_deliveries d SET task_id = o.payload ->> 'taskId' FROM outbox o WHERE o.id = d.outbox_id;
CREATE INDEX matrix_deliveries_event ON matrix_deliveries (event_id);
CREATE INDEX matrix_deliveries_room_task ON matrix_deliveries (room_id, task_id) WHERE part = 'message';
