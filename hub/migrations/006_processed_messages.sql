-- FHIR messages ($process-message) already processed, with the response sent, so a message sent
-- again (the same Bundle.id from the same source endpoint, FHIR R4 messaging.html#reliable) gets
-- the same answer and changes nothing. Written in the message's own transaction.
CREATE TABLE processed_messages (
  source_endpoint text NOT NULL,
  message_id      text NOT NULL,
  response        jsonb NOT NULL,
  processed_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (source_endpoint, message_id)
);
