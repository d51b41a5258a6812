-- Which of a referral's recipient devices got the key of each event that carried it (the
-- referral, or a re-send), and why not where they did not: "delivered" means readable.
CREATE TABLE referral_device_reach (
  task_id     text NOT NULL,
  event_id    text NOT NULL,
  user_id     text NOT NULL,
  device_id   text NOT NULL,
  readable    boolean NOT NULL,
  -- the m.room_key.withheld code (m.unverified, m.no_olm, ...) when not readable
  reason      text,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (task_id, event_id, user_id, device_id)
);
CREATE INDEX referral_device_reach_reader ON referral_device_reach (task_id, user_id) WHERE readable;

-- Recipients who could read a referral on none of their devices: the hub sends it again for
-- them once one of their devices can read it.
CREATE TABLE referral_waiting_readers (
  task_id  text NOT NULL,
  user_id  text NOT NULL,
  room_id  text NOT NULL,
  since    timestamptz NOT NULL DEFAULT now(),
  resends  integer NOT NULL DEFAULT 0,
  PRIMARY KEY (task_id, user_id)
);
