import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { ConfigError, loadConfigFile, parseConfig } from './load-config.js';

const minimal = {
  database: { url: 'postgres://carehub@127.0.0.1/carehub' },
  matrix: {
    homeserverUrl: 'http://127.0.0.1:8008',
    serverName: 'carehub.test',
    bot: { userId: '@carehub:carehub.test', passwordFile: 'bot-password' },
    deviceStore: { path: 'device.bin', keyFile: 'device.key' },
  },
  auth: { signingKeyFile: 'token-signing.jwk' },
};

function problemsOf(raw: unknown): string {
  try {
    parseConfig(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('the configuration was accepted');
}

describe('an operator starting the hub with a bad configuration is told which option is wrong', () => {
  test('a minimal configuration gets documented defaults', () => {
    const config = parseConfig(minimal);
    expect(config.http.port).toBe(8080);
    expect(config.roles).toEqual(['api', 'outbox-relay', 'delivery']);
    expect(config.delivery.attempts).toBe(25);
  });

  test('authorization is on unless switched off, and then needs its signing key', () => {
    expect(parseConfig(minimal).auth.enabled).toBe(true);
    expect(problemsOf({ ...minimal, auth: {} })).toMatch(/auth\.signingKeyFile: signingKeyFile is required when enabled/);
    expect(parseConfig({ ...minimal, auth: { enabled: false } }).auth.enabled).toBe(false);
  });

  test('a wrong type names the option', () => {
    expect(problemsOf({ ...minimal, http: { port: 'eighty' } })).toMatch(/http\.port: /);
  });

  test('a missing required option names the option', () => {
    expect(problemsOf({ ...minimal, database: {} })).toMatch(/database\.url: /);
  });

  test('a misspelt option is refused rather than silently ignored', () => {
    expect(problemsOf({ ...minimal, delivery: { atempts: 3 } })).toMatch(/delivery: .*atempts/);
  });

  test('a malformed Matrix user ID names the option', () => {
    const raw = { ...minimal, matrix: { ...minimal.matrix, bot: { userId: 'carehub', passwordFile: 'x' } } };
    expect(problemsOf(raw)).toMatch(/matrix\.bot\.userId: a Matrix user ID/);
  });

  test('an unknown role names the option', () => {
    expect(problemsOf({ ...minimal, roles: ['api', 'coffee'] })).toMatch(/roles\.1: /);
  });

  test('relative paths in the file are resolved against the file, not the working directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'carehub-config-'));
    const file = join(dir, 'carehub.yaml');
    writeFileSync(file, JSON.stringify(minimal));
    const config = loadConfigFile(file);
    expect(config.matrix.deviceStore.path).toBe(join(dir, 'device.bin'));
    expect(config.matrix.bot.passwordFile).toBe(join(dir, 'bot-password'));
    expect(config.auth.signingKeyFile).toBe(join(dir, 'token-signing.jwk'));
  });

  test('a file that is not YAML, or is missing, is reported with its path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'carehub-config-'));
    const file = join(dir, 'broken.yaml');
    writeFileSync(file, 'http: [unclosed');
    expect(() => loadConfigFile(file)).toThrow(new RegExp(`config file ${file} is not valid YAML`));
    expect(() => loadConfigFile(join(dir, 'absent.yaml'))).toThrow(/cannot read config file/);
  });

  test("the example file's values are the schema's defaults, and it is a valid configuration", () => {
    const examplePath = fileURLToPath(new URL('../../../ops/config/carehub.example.yaml', import.meta.url));
    const example = parseYaml(readFileSync(examplePath, 'utf8')) as Record<string, unknown>;
    const defaults = parseConfig(minimal) as unknown as Record<string, unknown>;
    expect(() => parseConfig(example)).not.toThrow();
    // Options without a default (required, or paths) show an illustrative value instead.
    const illustrative = new Set([
      'http.publicBaseUrl', 'database.url', 'auth.signingKeyFile', 'documents.storageKeyDir',
      'matrix.homeserverUrl', 'matrix.serverName', 'matrix.bot.userId', 'matrix.bot.passwordFile', 'matrix.deviceStore.path', 'matrix.deviceStore.keyFile',
    ]);
    const differences: string[] = [];
    const compare = (value: unknown, fallback: unknown, path: string) => {
      if (illustrative.has(path)) return;
      if (value && typeof value === 'object' && !Array.isArray(value)) {
        for (const [key, inner] of Object.entries(value)) compare(inner, (fallback as Record<string, unknown> | undefined)?.[key], path ? `${path}.${key}` : key);
      } else if (JSON.stringify(value) !== JSON.stringify(fallback)) {
        differences.push(`${path}: example ${JSON.stringify(value)}, default ${JSON.stringify(fallback)}`);
      }
    };
    compare(example, defaults, '');
    // And the other way round: every option with a default is in the example, so none goes undocumented.
    const missing: string[] = [];
    const present = (value: unknown, inExample: unknown, path: string) => {
      if (inExample === undefined) {
        missing.push(path);
        return;
      }
      if (value && typeof value === 'object' && !Array.isArray(value)) {
        for (const [key, inner] of Object.entries(value)) present(inner, (inExample as Record<string, unknown>)[key], `${path}.${key}`);
      }
    };
    for (const [key, value] of Object.entries(defaults)) present(value, example[key], key);
    expect(differences).toEqual([]);
    expect(missing).toEqual([]);
  });

  test('the operator listener and the subscription allow list have safe defaults, and a bad host names the option', () => {
    const config = parseConfig(minimal);
    expect(config.http.operator).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(config.subscriptions.allowedHosts).toEqual([]);
    expect(parseConfig({ ...minimal, subscriptions: { allowedHosts: ['hooks.internal:8443', '[fd00::1]', '127.0.0.1'] } }).subscriptions.allowedHosts).toHaveLength(3);
    expect(problemsOf({ ...minimal, subscriptions: { allowedHosts: ['http://hooks.internal/'] } })).toMatch(/subscriptions\.allowedHosts\.0: a host or host:port/);
  });
});
