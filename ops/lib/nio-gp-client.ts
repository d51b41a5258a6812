import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** Where the nio client runs: the homeserver, and the Debian sid root that has matrix-nio and libolm. */
export interface NioGpStack {
  homeserverUrl: string;
  synapseRoot: string;
}

/** A timeline event as the nio client saw it: decrypted type and content when it was encrypted. */
export interface NioEvent {
  type: string;
  sender: string;
  room_id: string;
  event_id: string;
  origin_server_ts: number;
  /** True when it came encrypted and nio decrypted it; false for a plain event (nio's reactions, state). */
  encrypted: boolean;
  /** nio's class for it: an encrypted m.file is `RoomEncryptedFile`, a text `RoomMessageText`. */
  nio_class: string;
  content: Record<string, unknown>;
}

/** An encrypted event nio could not decrypt (yet): no Megolm key for its session. */
export interface NioUndecryptable {
  room_id: string;
  event_id: string;
  sender: string;
  session_id: string;
  sender_key: string;
}

/** An `m.room_key.withheld` the nio device received: the sender refused it a room key, and why. */
export interface NioWithheldKey {
  sender: string;
  /** `m.unverified`, `m.blacklisted`, `m.unauthorised`, `m.unavailable` or `m.no_olm`. */
  code: string;
  reason?: string;
  room_id?: string;
  session_id?: string;
  sender_key?: string;
}

interface Answer {
  id: number;
  ok: boolean;
  result?: Record<string, unknown>;
  error?: string;
}

type Pushed =
  | { ready: { user_id: string; device_id: string } }
  | { joined: { room_id: string } }
  | { event: NioEvent }
  | { undecryptable: NioUndecryptable }
  | { withheld: NioWithheldKey };

/** The encrypted attachment of an m.file (Matrix `EncryptedFile`), as nio's decrypt_attachment takes it. */
interface EncryptedFileJson {
  url: string;
  key: { k: string };
  iv: string;
  hashes: { sha256: string };
}

const SCRIPT = fileURLToPath(new URL('./nio-gp/nio_gp_client.py', import.meta.url));
const START_TIMEOUT_MS = 60_000;

/**
 * A GP's Matrix client on matrix-nio + libolm, an E2EE implementation independent of
 * matrix-js-sdk (and so of the hub's own crypto), beside GpMatrixClient. It runs
 * ops/lib/nio-gp/nio_gp_client.py with the Synapse root's python3 (chroot, so it needs root; the
 * network is shared, so it reaches the homeserver on 127.0.0.1). Like nio itself it has no
 * cross-signing: senders that share keys only with cross-signed devices withhold them from it.
 */
export class NioGpClient {
  readonly events: NioEvent[] = [];
  readonly undecryptable: NioUndecryptable[] = [];
  private readonly withheld: NioWithheldKey[] = [];
  private readonly joinedRooms = new Set<string>();
  private readonly waiters = new Set<() => void>();
  private readonly pending = new Map<number, (answer: Answer) => void>();
  private readonly stderrTail: string[] = [];
  private nextId = 1;
  private exited = false;
  private deviceIdValue = '';

  private constructor(
    readonly userId: string,
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly workDir: string,
  ) {}

  /** Logs in as `user` with its password (a new device), syncs once, and returns when its keys are on the homeserver. */
  static async start(user: { userId: string; password: string }, where: NioGpStack, options: { deviceName?: string } = {}): Promise<NioGpClient> {
    // A .stack/stack.json written before the nio client existed has no synapseRoot.
    if (typeof where.synapseRoot !== 'string' || !existsSync(join(where.synapseRoot, 'usr/lib/python3/dist-packages/nio'))) {
      throw new Error(`matrix-nio is not installed in ${where.synapseRoot}: run \`npm run setup\``);
    }
    // The script and the olm store live in the root's /tmp, where the root's python3 sees them.
    const workDir = mkdtempSync(join(where.synapseRoot, 'tmp', 'carehub-nio-gp-'));
    const inRoot = `/tmp/${basename(workDir)}`;
    copyFileSync(SCRIPT, join(workDir, 'nio_gp_client.py'));
    mkdirSync(join(workDir, 'store'));
    const args = [
      where.synapseRoot, 'env', 'LC_ALL=C.UTF-8', 'PYTHONDONTWRITEBYTECODE=1',
      'python3', `${inRoot}/nio_gp_client.py`,
      '--homeserver', where.homeserverUrl, '--user-id', user.userId, '--store', `${inRoot}/store`,
      '--device-name', options.deviceName ?? 'nio GP client',
    ];
    const child = spawn('chroot', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const gp = new NioGpClient(user.userId, child, workDir);
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the nio client did not sync within ${START_TIMEOUT_MS} ms${gp.stderrSummary()}`)), START_TIMEOUT_MS);
      gp.onReady = () => { clearTimeout(timer); resolve(); };
      child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`the nio client exited (${code}) before it synced${gp.stderrSummary()}`)); });
    });
    gp.listen();
    child.stdin.write(`${user.password}\n`);
    try {
      await ready;
    } catch (error) {
      await gp.stop();
      throw error;
    }
    return gp;
  }

  private onReady: () => void = () => undefined;

  /** The nio device's id (the one it logged in as). */
  get deviceId(): string {
    return this.deviceIdValue;
  }

  private listen(): void {
    createInterface({ input: this.child.stdout }).on('line', (line) => this.receive(line));
    createInterface({ input: this.child.stderr }).on('line', (line) => {
      this.stderrTail.push(line);
      if (this.stderrTail.length > 20) this.stderrTail.shift();
    });
    this.child.once('exit', () => {
      this.exited = true;
      for (const answer of this.pending.values()) answer({ id: 0, ok: false, error: `the nio client exited${this.stderrSummary()}` });
      this.pending.clear();
    });
  }

  private receive(line: string): void {
    let message: Answer | Pushed;
    try {
      message = JSON.parse(line) as Answer | Pushed;
    } catch {
      this.stderrTail.push(`(not JSON on stdout) ${line.slice(0, 200)}`);
      return;
    }
    if ('id' in message) {
      this.pending.get(message.id)?.(message);
      this.pending.delete(message.id);
      return;
    }
    if ('ready' in message) {
      this.deviceIdValue = message.ready.device_id;
      this.onReady();
    } else if ('joined' in message) this.joinedRooms.add(message.joined.room_id);
    else if ('event' in message) this.events.push(message.event);
    else if ('undecryptable' in message) this.undecryptable.push(message.undecryptable);
    else if ('withheld' in message) this.withheld.push(message.withheld);
    this.waiters.forEach((w) => w());
  }

  private stderrSummary(): string {
    return this.stderrTail.length ? `; its stderr ends:\n${this.stderrTail.join('\n')}` : '';
  }

  private async command(cmd: string, fields: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    if (this.exited) throw new Error(`the nio client has exited${this.stderrSummary()}`);
    const id = this.nextId++;
    const answer = await new Promise<Answer>((resolve) => {
      this.pending.set(id, resolve);
      this.child.stdin.write(`${JSON.stringify({ id, cmd, ...fields })}\n`);
    });
    if (!answer.ok) throw new Error(`nio client ${cmd}: ${answer.error}`);
    return answer.result ?? {};
  }

  /** Waits until something the client has seen (so far, or next) makes `found` return a value. */
  private waitUntil<T>(description: string, found: () => T | undefined, timeoutMs: number): Promise<T> {
    const now = found();
    if (now !== undefined) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`the nio client saw no ${description} within ${timeoutMs} ms`));
      }, timeoutMs);
      const check = () => {
        const value = found();
        if (value === undefined) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(value);
      };
      this.waiters.add(check);
    });
  }

  /** Waits for a (decrypted, or plain) event that matches, among those seen so far and then each new one. */
  waitForEvent(description: string, matches: (event: NioEvent) => boolean, timeoutMs = 60_000): Promise<NioEvent> {
    return this.waitUntil(`event: ${description}`, () => this.events.find(matches), timeoutMs);
  }

  /** Waits for an encrypted event nio could not decrypt. */
  waitForUndecryptable(description: string, matches: (event: NioUndecryptable) => boolean, timeoutMs = 60_000): Promise<NioUndecryptable> {
    return this.waitUntil(`undecryptable event: ${description}`, () => this.undecryptable.find(matches), timeoutMs);
  }

  /** Waits for an `m.room_key.withheld` that matches. */
  waitForWithheldKey(description: string, matches: (withheld: NioWithheldKey) => boolean, timeoutMs = 60_000): Promise<NioWithheldKey> {
    return this.waitUntil(`withheld key: ${description}`, () => this.withheld.find(matches), timeoutMs);
  }

  /** Waits until the client has joined a room (it joins every invite by itself). */
  async waitForJoin(roomId: string, timeoutMs = 60_000): Promise<void> {
    await this.waitUntil(`join of ${roomId}`, () => (this.joinedRooms.has(roomId) ? true : undefined), timeoutMs);
  }

  /** Every `m.room_key.withheld` this device has received so far. */
  withheldKeys(): readonly NioWithheldKey[] {
    return [...this.withheld];
  }

  /**
   * Sends a text message (encrypted in an encrypted room): at the top of the room, or in a
   * thread and/or as a reply. nio shares its room key with every member device, verified or not.
   */
  async say(roomId: string, body: string, options: { inReplyTo?: string; threadRoot?: string } = {}): Promise<string> {
    const result = await this.command('say', { room_id: roomId, body, in_reply_to: options.inReplyTo, thread_root: options.threadRoot });
    return result['event_id'] as string;
  }

  /** Reacts to an event with an emoji; nio sends reactions unencrypted, even in an encrypted room. */
  async react(event: Pick<NioEvent, 'room_id' | 'event_id'>, key: string): Promise<string> {
    const result = await this.command('react', { room_id: event.room_id, event_id: event.event_id, key });
    return result['event_id'] as string;
  }

  /** Sends a read receipt (`m.read`) for an event, as a client does when the GP opens the room. */
  async markRead(event: Pick<NioEvent, 'room_id' | 'event_id'>): Promise<void> {
    await this.command('mark_read', { room_id: event.room_id, event_id: event.event_id });
  }

  /** The display name nio shows for a user: their profile's, and (given a room) the room member's. */
  async displayNameOf(userId: string, roomId?: string): Promise<{ profile: string | null; inRoom: string | null }> {
    const result = await this.command('display_name', { user_id: userId, room_id: roomId });
    return { profile: (result['profile'] as string | null) ?? null, inRoom: (result['in_room'] as string | null) ?? null };
  }

  /** Downloads an m.file's encrypted attachment from the authenticated media path and decrypts it with libolm's attachment code. */
  async downloadFile(content: Record<string, unknown>): Promise<Buffer> {
    const file = content['file'] as EncryptedFileJson | undefined;
    if (typeof file?.url !== 'string') throw new Error('the message carries no encrypted file (content.file with an mxc:// url)');
    const result = await this.command('download', { file });
    return Buffer.from(result['base64'] as string, 'base64');
  }

  /** Stops syncing, ends the process, and removes its olm store. */
  async stop(): Promise<void> {
    if (!this.exited) {
      const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
      void this.command('stop').catch(() => undefined);
      this.child.stdin.end();
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.workDir, { recursive: true, force: true });
  }
}
