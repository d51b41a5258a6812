-- A member's direct chat with the bot: whose it is (Matrix user and the PractitionerRole the
-- bot acts for), the case it is working on, a case waiting for the person's consent, and the
-- numbered choices of the last directory search or case list. FHIR ids and Matrix ids only.
CREATE TABLE direct_chats (
  room_id       text PRIMARY KEY,
  user_id       text NOT NULL,
  role_id       text,
  care_team_id  text,
  -- {"patient": "Patient/…", "reason": "…"}: a case to open once consent is recorded
  pending       jsonb,
  -- [{"ref": "PractitionerRole/…", "label": "…"}]
  choices       jsonb NOT NULL DEFAULT '[]',
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX direct_chats_role ON direct_chats (role_id);
