-- Directory lookups ("roles of this practitioner", "members of this organisation") use jsonb
-- containment; a GIN index keeps them fast as the directory grows.
CREATE INDEX resources_content ON resources USING gin (content jsonb_path_ops);
