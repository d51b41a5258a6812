-- SMART Backend Services clients (hl7.org/fhir/smart-app-launch/backend-services.html): each
-- belongs to one Organization of the network and authenticates with a key of its JWKS.
CREATE TABLE smart_clients (
  client_id    text PRIMARY KEY,
  organization text NOT NULL,              -- "Organization/<id>"
  jwks         jsonb NOT NULL,             -- the client's public keys, {"keys": [...]}
  scopes       text[] NOT NULL,            -- what it may be granted, e.g. system/*.rs
  roles        text[] NOT NULL DEFAULT '{}', -- e.g. auditor
  active       boolean NOT NULL DEFAULT true,
  created_at   timestamptz NOT NULL DEFAULT now()
);

-- Client assertion ids already used, until their assertion expires: a replayed assertion is
-- refused even after a restart or on another hub node.
CREATE TABLE smart_used_assertions (
  client_id  text NOT NULL,
  jti        text NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (client_id, jti)
);
CREATE INDEX smart_used_assertions_expiry ON smart_used_assertions (expires_at);
