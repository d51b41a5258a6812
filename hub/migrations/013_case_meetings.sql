-- A case's meetings: FHIR Appointments linked to a CareTeam (Appointment.supportingInformation).
-- The Appointment says what and when; this row is what the hub did about it in the case's room:
-- the conference's random name (the same for the Appointment in every case it is linked to, so
-- its link never changes), the invitation it posted (replies to it are answers), and the start
-- it last reminded the room of (a moved meeting is reminded of again). FHIR and Matrix ids only.
CREATE TABLE case_meetings (
  appointment_id  text NOT NULL,
  care_team_id    text NOT NULL,
  conference_id   text NOT NULL,
  -- the invitation's event; null until it is posted
  event_id        text,
  -- when the reminder went, and the Appointment.start it was for
  reminded_at     timestamptz,
  reminded_start  text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (appointment_id, care_team_id)
);
CREATE INDEX case_meetings_case ON case_meetings (care_team_id);
