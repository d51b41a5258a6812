-- Closing a case: when its transcript was exported, when removing its members and purging its
-- room was asked for (after cases.removeMembersAfterDays), and when that was done.
ALTER TABLE case_rooms
  ADD COLUMN exported_at        timestamptz,
  ADD COLUMN purge_requested_at timestamptz,
  ADD COLUMN purged_at          timestamptz;
