import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { configSchema, type CareHubConfig } from './config-schema.js';

/** A configuration problem; its message names the option so an operator can fix it. */
export class ConfigError extends Error {}

/** Validates a parsed configuration object; every problem is reported with its option path. */
export function parseConfig(raw: unknown): CareHubConfig {
  const result = configSchema.safeParse(raw);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const option = issue.path.join('.') || '(top level)';
    return `  ${option}: ${issue.message}`;
  });
  throw new ConfigError(`invalid configuration:\n${problems.join('\n')}`);
}

/**
 * Reads the YAML config file. Relative file paths inside it (device store, password file)
 * are resolved against the config file's folder, so the hub can be started from anywhere.
 */
export function loadConfigFile(path: string): CareHubConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${(error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw new ConfigError(`config file ${path} is not valid YAML: ${(error as Error).message}`);
  }
  const config = parseConfig(raw ?? {});
  const base = dirname(resolve(path));
  const fromConfigDir = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  config.matrix.bot.passwordFile = fromConfigDir(config.matrix.bot.passwordFile);
  config.matrix.deviceStore.path = fromConfigDir(config.matrix.deviceStore.path);
  config.matrix.deviceStore.keyFile = fromConfigDir(config.matrix.deviceStore.keyFile);
  if (config.auth.signingKeyFile) config.auth.signingKeyFile = fromConfigDir(config.auth.signingKeyFile);
  config.validation.extensions.definitions = config.validation.extensions.definitions.map(fromConfigDir);
  return config;
}
