-- A referral is delivered as more than one event (the readable message and its FHIR file), and
-- later messages (edits, notices) are delivered through the outbox too: one row per event sent.
ALTER TABLE matrix_deliveries ADD COLUMN part text NOT NULL DEFAULT 'message';
ALTER TABLE matrix_deliveries DROP CONSTRAINT matrix_deliveries_pkey;
ALTER TABLE matrix_deliveries ADD PRIMARY KEY (outbox_id, part);

-- Every room event the hub has acted on, so an event seen twice (a restart replays recent
-- history) changes nothing the second time. Written in the same transaction as the effects.
CREATE TABLE matrix_inbound_events (
  event_id    text PRIMARY KEY,
  room_id     text NOT NULL,
  sender      text NOT NULL,
  task_id     text,
  outcome     text NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now()
);

-- Finding the outbox rows about one Task (is its referral delivered yet?) without a scan.
CREATE INDEX outbox_task ON outbox ((payload ->> 'taskId'), topic);

-- Notifications to one Subscription go out in order: a worker looks for earlier open rows.
CREATE INDEX outbox_open_subscription ON outbox ((payload ->> 'subscriptionId'), id) WHERE completed_at IS NULL;
