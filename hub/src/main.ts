import { ConfigError, loadConfigFile } from './config/load-config.js';
import { startHub } from './hub.js';
import { createLogger } from './logger.js';

/**
 * `npm start`: runs the hub from a config file, `--config <path>` or CAREHUB_CONFIG
 * (default: .stack/carehub.yaml, written by `npm run setup`).
 */
function configPath(argv: string[]): string {
  const flag = argv.indexOf('--config');
  if (flag >= 0 && argv[flag + 1]) return argv[flag + 1]!;
  return process.env['CAREHUB_CONFIG'] ?? '.stack/carehub.yaml';
}

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfigFile(configPath(process.argv));
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`carehub: ${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  const logger = createLogger(config.log.level);
  const hub = await startHub(config, logger);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    hub.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`carehub: failed to start: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
