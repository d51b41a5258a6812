import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The hub as operators run it (`npm start`), in its own process: the demo starts it this way,
 * and a test can kill it with SIGKILL at the worst moment and start it again.
 */
export class HubProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly baseUrl: string | undefined,
    /** The operator's listener (/metrics, /healthz, /readyz), as the process logged it. */
    readonly operatorUrl: string | undefined,
  ) {}

  /** Writes `rawConfig` next to the other test configs and starts the hub on it. */
  static async startWithConfig(configDir: string, name: string, rawConfig: object, options: { waitForApi: boolean }): Promise<HubProcess> {
    const configFile = join(configDir, `${name}.yaml`);
    // JSON is YAML, and spares a YAML writer.
    writeFileSync(configFile, JSON.stringify({ ...rawConfig, log: { level: 'info' } }));
    return HubProcess.start(configFile, name, options);
  }

  /** Starts `npm start --config configFile`'s process and waits until it is ready. */
  static async start(configFile: string, name: string, options: { waitForApi: boolean; logTo?: (line: string) => void }): Promise<HubProcess> {
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', 'hub/src/main.ts', '--config', configFile], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // A hub must not outlive whoever started it (a test run that is cut short, say).
    const killOnExit = () => child.kill('SIGKILL');
    process.once('exit', killOnExit);
    child.once('exit', () => process.off('exit', killOnExit));
    const stderr: string[] = [];
    let operatorUrl: string | undefined;
    child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
    const ready = new Promise<string | undefined>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout! });
      lines.on('line', (line) => {
        options.logTo?.(line);
        // For looking into a failed test run: CAREHUB_HUB_LOG=/tmp/hubs.log npm run test:only -- …
        if (process.env['CAREHUB_HUB_LOG']) appendFileSync(process.env['CAREHUB_HUB_LOG'], `${name} ${line}\n`);
        let entry: { msg?: string; baseUrl?: string; operatorUrl?: string };
        try {
          entry = JSON.parse(line) as typeof entry;
        } catch {
          return;
        }
        // Logged before the API's line and the bot's, so it is known once the hub is ready.
        if (entry.msg === 'operator endpoints listening') operatorUrl = entry.operatorUrl;
        if (options.waitForApi && entry.msg === 'FHIR API listening') resolve(entry.baseUrl);
        if (!options.waitForApi && entry.msg === 'bot device synced') resolve(undefined);
      });
      child.once('exit', (code) => reject(new Error(`hub process ${name} exited with ${code} during start-up: ${stderr.join('')}`)));
    });
    const baseUrl = await ready;
    return new HubProcess(child, baseUrl, operatorUrl);
  }

  /** The operating system's process id (to read its memory use in benchmarks). */
  get pid(): number {
    return this.child.pid!;
  }

  private get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /** Kills the process at once (no shutdown hooks run), as a crash or an OOM kill would. */
  async kill(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGKILL');
    await exited;
  }

  /** Stops the process as an operator would (SIGTERM, graceful shutdown). */
  async stop(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }
}
