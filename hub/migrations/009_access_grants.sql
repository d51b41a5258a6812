-- Who may read each piece of patient data: one row per resource and organisation that is a
-- party to it (docs/access-policy.md). Rows are written in the same transaction as the write
-- that causes them; `granted_by` names that write's resource, so rewriting it replaces exactly
-- the rows it made. Directory resources have no rows: every network member reads them.
CREATE TABLE access_grants (
  resource_type    text NOT NULL,
  id               text NOT NULL,
  organization     text NOT NULL,
  granted_by_type  text NOT NULL,
  granted_by_id    text NOT NULL,
  PRIMARY KEY (resource_type, id, organization, granted_by_type, granted_by_id)
);
CREATE INDEX access_grants_granted_by ON access_grants (granted_by_type, granted_by_id);

-- Set once every resource stored before this table existed has its grants (the hub does it at
-- start-up, in code: a Task's parties need the directory to be read).
CREATE TABLE access_grants_backfill (done_at timestamptz NOT NULL DEFAULT now());

-- $process-message duplicate detection is per sending client: a message from another client
-- with the same source endpoint and Bundle.id is its own message, never "already processed".
ALTER TABLE processed_messages ADD COLUMN client_id text NOT NULL DEFAULT '';
ALTER TABLE processed_messages DROP CONSTRAINT processed_messages_pkey;
ALTER TABLE processed_messages ADD PRIMARY KEY (client_id, source_endpoint, message_id);
