-- A referral a member sent from Matrix ("refer …" in a case room): the room and the message it
-- was sent with, so its Task's status changes are told there, as replies to it. Referrals sent
-- from a direct chat need no row (they are told in the requester's direct chat). Matrix and
-- FHIR ids only.
CREATE TABLE matrix_referrals (
  task_id     text PRIMARY KEY,
  room_id     text NOT NULL,
  event_id    text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
