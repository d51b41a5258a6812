// The hub's front door: the service itself and what operators' tools (ops/) and the stack tests
// do with it. Nothing in another package imports the hub; it is the top of the graph.

// Running the hub from its one validated config.
export { startHub, type RunningHub } from './hub.js';
export { ConfigError, loadConfigFile, parseConfig } from './config/load-config.js';
export { configSchema, type CareHubConfig } from './config/config-schema.js';
export { createLogger, type Logger } from './logger.js';

// Provisioning and operating it: the database, SMART clients, token and storage keys.
export { createDatabase, type Database } from './store/database.js';
export { migrate } from './store/migrate.js';
export { deleteSmartClient, registerSmartClient, setSmartClientActive } from './auth/smart-clients.js';
export { generateSigningJwk } from './auth/access-token.js';
export { createStorageKey } from './documents/storage-keyring.js';
export { contentUnderOlderKeys, queueReencryption } from './documents/reencrypt-content.js';

// How the directory says an Endpoint is reached over Matrix.
export { CAREHUB_ENDPOINT_CONNECTION_SYSTEM, MATRIX_CONNECTION_CODE, matrixUserOfEndpoint } from './routing/matrix-address.js';
