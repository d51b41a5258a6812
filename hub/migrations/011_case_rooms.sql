-- A case's room and its moderation: what the CareTeam does not say. The room itself is found by
-- an alias derived from the CareTeam; this row is where the hub remembers it and what the
-- moderators did (mutes, with when they end; the lock; open hours), so the case clock can undo
-- timed steps after a restart. Matrix user ids and FHIR ids only.
CREATE TABLE case_rooms (
  care_team_id       text PRIMARY KEY,
  room_id            text UNIQUE,
  -- {"@user:server": "2026-12-02T15:00:00Z" | null}: muted until then (null: until unmuted)
  muted              jsonb NOT NULL DEFAULT '{}',
  locked             boolean NOT NULL DEFAULT false,
  muted_all          boolean NOT NULL DEFAULT false,
  -- {"days": ["tue"], "start": "15:00", "end": "16:00"}; null: always open
  open_hours         jsonb,
  -- what the open-hours rule last made of the room, so a change is announced once
  hours_open         boolean,
  settled_at         timestamptz
);
