import type { Logger as PinoLogger } from 'pino';
import type { Logger as SdkLogger } from 'matrix-js-sdk/lib/logger.js';
import { logger as sdkGlobalLogger } from 'matrix-js-sdk/lib/logger.js';

const text = (msg: unknown[]) => msg.map((m) => (m instanceof Error ? m.message : typeof m === 'string' ? m : String(m))).join(' ');

/**
 * Routes matrix-js-sdk's logging into our structured log. The SDK is chatty at debug level
 * (every sync and key query), so only warnings and errors pass.
 */
export function sdkLoggerFor(log: PinoLogger): SdkLogger {
  const make = (child: PinoLogger): SdkLogger => ({
    trace: () => undefined,
    debug: () => undefined,
    info: () => undefined,
    warn: (...msg: unknown[]) => child.warn(text(msg)),
    error: (...msg: unknown[]) => child.error(text(msg)),
    getChild: (namespace: string) => make(child.child({ sdk: namespace })),
  });
  return make(log.child({ component: 'matrix-js-sdk' }));
}

/** Modules of the SDK that log through its global logger, not the client's, print to the console. */
export function quietSdkGlobalLogger(): void {
  (sdkGlobalLogger as unknown as { setLevel(level: string): void }).setLevel('error');
}
