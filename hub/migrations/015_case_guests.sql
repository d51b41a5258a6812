-- A case's guests: a relative, or the person themself, invited by a moderator with a one-time
-- link. The CareTeam holds them as a participant (role guest, member RelatedPerson or Patient,
-- period ending when their access does); this row is the link and the account behind it. Only
-- the link's SHA-256 is kept (the link itself is in the moderator's encrypted direct chat), and
-- a new link replaces the old. `identified_by` is how the moderator made sure who they are.
CREATE TABLE case_guests (
  id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  care_team_id        text NOT NULL,
  -- "RelatedPerson/…" or "Patient/…": the CareTeam participant's member
  member              text NOT NULL,
  identified_by       text NOT NULL,
  -- the moderator who invited them (a Matrix user id)
  invited_by          text NOT NULL,
  -- the direct chat the link goes to
  link_room_id        text NOT NULL,
  token_sha256        bytea UNIQUE,
  link_expires_at     timestamptz NOT NULL,
  access_ends_at      timestamptz NOT NULL,
  -- issued: the link waits; joined: the link was used, the account is in the room;
  -- ended: a moderator ended it, or its time ran out (the account is deactivated);
  -- expired: the link was never used
  state               text NOT NULL DEFAULT 'issued' CHECK (state IN ('issued', 'joined', 'ended', 'expired')),
  user_id             text UNIQUE,
  joined_at           timestamptz,
  ended_at            timestamptz,
  -- set when the account is deactivated on the homeserver
  deactivated_at      timestamptz,
  created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX case_guests_case ON case_guests (care_team_id);
CREATE INDEX case_guests_open ON case_guests (state) WHERE state IN ('issued', 'joined');
