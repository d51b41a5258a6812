import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Structured JSON logs. Only identifiers go in (resource ids, outbox ids, room ids): never
 * patient data or message bodies, which is why request bodies are not serialised anywhere.
 */
export function createLogger(level: string, name = 'carehub'): Logger {
  return pino({ name, level, base: { service: name } });
}
