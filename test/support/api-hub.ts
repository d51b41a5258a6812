import { createLogger, type RunningHub, startHub } from '@carehub/hub';
import { TypedFhirClient } from '../../ops/lib/typed-fhir-client.js';
import { createTestDatabase, createTestHubConfig } from './test-stack.js';

export interface ApiHub {
  hub: RunningHub;
  /** fhir-kit-client on the hub's FHIR base, as an integrator's system would use it. */
  fhir: TypedFhirClient;
  baseUrl: string;
  /** The hub's own database, for tests that check what was (not) stored. */
  databaseUrl: string;
  stop(): Promise<void>;
}

/** The hub's API alone (no bot, no workers) on a database of its own, for one test file. */
export async function startApiHub(): Promise<ApiHub> {
  const database = await createTestDatabase();
  const { config } = await createTestHubConfig(database.url, { roles: ['api'] });
  const hub = await startHub(config, createLogger('silent'));
  return {
    hub,
    fhir: new TypedFhirClient(`${hub.baseUrl}/fhir`),
    baseUrl: hub.baseUrl!,
    databaseUrl: database.url,
    async stop() {
      await hub.stop();
      await database.drop();
    },
  };
}
