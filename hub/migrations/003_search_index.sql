-- Search indexes, rewritten in the same transaction as every write of the resource they index.
-- One table per search-parameter kind (FHIR R4 search.html#ptypes).
CREATE TABLE search_token (
  resource_type text NOT NULL,
  id            text NOT NULL,
  code          text NOT NULL,
  system        text,
  value         text NOT NULL
);
CREATE INDEX search_token_lookup ON search_token (resource_type, code, value, system);
CREATE INDEX search_token_owner ON search_token (resource_type, id);

CREATE TABLE search_string (
  resource_type text NOT NULL,
  id            text NOT NULL,
  code          text NOT NULL,
  -- lower-cased, accents removed: the default (starts-with) and :contains matches
  normalized    text NOT NULL,
  -- as written: the :exact match
  exact         text NOT NULL
);
CREATE INDEX search_string_lookup ON search_string (resource_type, code, normalized text_pattern_ops);
CREATE INDEX search_string_exact ON search_string (resource_type, code, exact);
CREATE INDEX search_string_owner ON search_string (resource_type, id);

CREATE TABLE search_reference (
  resource_type text NOT NULL,
  id            text NOT NULL,
  code          text NOT NULL,
  target_type   text NOT NULL,
  target_id     text NOT NULL
);
CREATE INDEX search_reference_lookup ON search_reference (resource_type, code, target_type, target_id);
CREATE INDEX search_reference_target ON search_reference (target_type, target_id);
CREATE INDEX search_reference_owner ON search_reference (resource_type, id);

-- Keyset paging and _lastUpdated filters on the current versions.
CREATE INDEX resources_type_updated ON resources (resource_type, last_updated, id) WHERE NOT deleted;
