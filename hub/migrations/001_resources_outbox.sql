-- FHIR resources: the current version of each, plus every version in history.
CREATE TABLE resources (
  resource_type text NOT NULL,
  id            text NOT NULL,
  version_id    integer NOT NULL,
  last_updated  timestamptz NOT NULL,
  deleted       boolean NOT NULL DEFAULT false,
  content       jsonb NOT NULL,
  PRIMARY KEY (resource_type, id)
);

CREATE TABLE resource_history (
  resource_type text NOT NULL,
  id            text NOT NULL,
  version_id    integer NOT NULL,
  last_updated  timestamptz NOT NULL,
  deleted       boolean NOT NULL DEFAULT false,
  content       jsonb NOT NULL,
  PRIMARY KEY (resource_type, id, version_id)
);

-- Work the hub owes the outside world, written in the same transaction as the change that
-- caused it. The relay publishes rows to BullMQ (jobId "outbox-<id>"); the worker that finishes
-- the job sets completed_at in the same transaction as the job's own writes.
CREATE TABLE outbox (
  id           bigserial PRIMARY KEY,
  topic        text NOT NULL,
  payload      jsonb NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz,
  completed_at timestamptz
);
CREATE INDEX outbox_open ON outbox (id) WHERE completed_at IS NULL;

-- Wakes the relay as soon as a row commits (NOTIFY is delivered at commit, never before).
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('carehub_outbox', NEW.id::text);
  RETURN NULL;
END $$;
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION outbox_notify();

-- Every message the hub put into a room, keyed by the outbox row that asked for it.
CREATE TABLE matrix_deliveries (
  outbox_id    bigint PRIMARY KEY REFERENCES outbox (id),
  room_id      text NOT NULL,
  event_id     text NOT NULL,
  delivered_at timestamptz NOT NULL DEFAULT now()
);
