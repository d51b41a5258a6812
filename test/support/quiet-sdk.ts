import { quietSdkGlobalLogger } from '../../matrix-bridge/src/sdk-logger.js';

// Test clients log through matrix-js-sdk's global logger too; keep the test output readable.
quietSdkGlobalLogger();
