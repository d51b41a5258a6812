import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Facts about the local stack that `npm run setup` wrote to .stack/stack.json. */
export interface StackInfo {
  databaseUrl: string;
  redisUrl: string;
  homeserverUrl: string;
  serverName: string;
  registrationSecretFile: string;
  /** The Debian sid root Synapse runs from; the nio GP client (ops/lib/nio-gp/) runs there too. */
  synapseRoot: string;
}

export const STACK_DIR = fileURLToPath(new URL('../.stack/', import.meta.url));

export function readStackInfo(): StackInfo {
  try {
    return JSON.parse(readFileSync(`${STACK_DIR}stack.json`, 'utf8')) as StackInfo;
  } catch {
    throw new Error('no .stack/stack.json: run `npm run setup` first');
  }
}

export function readRegistrationSecret(info: StackInfo): string {
  return readFileSync(info.registrationSecretFile, 'utf8').trim();
}
