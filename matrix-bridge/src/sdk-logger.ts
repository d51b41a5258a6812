import type { Logger as PinoLogger } from 'pino';
import type { Logger as SdkLogger } from 'matrix-js-sdk/lib/logger.js';
import { logger as sdkGlobalLogger } from 'matrix-js-sdk/lib/logger.js';

const text = (msg: unknown[]) => msg.map((m) => (m instanceof Error ? m.message : typeof m === 'string' ? m : String(m))).join(' ');

/**
 * Routes matrix-js-sdk's logging into our structured log, one level down: the SDK is chatty
 * (every sync and key query at debug, routine notices such as push-rule defaults as warnings),
 * so its warnings are our debug and only its errors reach warn.
 */
export function sdkLoggerFor(log: PinoLogger): SdkLogger {
  const make = (child: PinoLogger): SdkLogger => ({
    trace: () => undefined,
    debug: () => undefined,
    info: () => undefined,
    warn: (...msg: unknown[]) => child.debug(text(msg)),
    error: (...msg: unknown[]) => child.warn(text(msg)),
    getChild: (namespace: string) => make(child.child({ sdk: namespace })),
  });
  return make(log.child({ component: 'matrix-js-sdk' }));
}

type MethodFactory = (methodName: string, level: number, loggerName: string | symbol) => (...args: unknown[]) => void;
let quieted = false;

/**
 * Some SDK modules log through its global loglevel logger, not the client's, straight to the
 * console and at debug level (each child logger is pinned to DEBUG). Children copy the root's
 * method factory when created, so filtering there keeps only warnings and errors everywhere.
 */
export function quietSdkGlobalLogger(): void {
  if (quieted) return;
  quieted = true;
  const root = sdkGlobalLogger as unknown as { methodFactory: MethodFactory; rebuild(): void };
  const original = root.methodFactory;
  root.methodFactory = (methodName, level, loggerName) =>
    methodName === 'warn' || methodName === 'error' ? original(methodName, level, loggerName) : () => undefined;
  root.rebuild();
}
