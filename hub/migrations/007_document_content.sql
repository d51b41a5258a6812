-- The content of Binary resources, never in plaintext: an OpenPGP message to the hub's storage
-- key, in chunks so that large documents stream in and out without being held whole in memory.
-- A content row belongs to one version of one Binary; rows are written in the same transaction
-- as that version, so a failed or refused upload leaves nothing behind.
CREATE TABLE binary_content (
  content_id   uuid PRIMARY KEY,
  binary_id    text,
  version_id   integer,
  content_type text NOT NULL,
  size         bigint NOT NULL,
  -- base64, as FHIR Attachment.hash (SHA-1) and CareHub's SHA-256 extension carry them
  sha1         text NOT NULL,
  sha256       text NOT NULL,
  -- fingerprint of the storage key the content is encrypted to (key rotation re-encrypts)
  storage_key  text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX binary_content_version ON binary_content (binary_id, version_id);
CREATE INDEX binary_content_key ON binary_content (storage_key);

CREATE TABLE binary_chunks (
  content_id uuid NOT NULL REFERENCES binary_content (content_id) ON DELETE CASCADE,
  seq        integer NOT NULL,
  data       bytea NOT NULL,
  PRIMARY KEY (content_id, seq)
);
