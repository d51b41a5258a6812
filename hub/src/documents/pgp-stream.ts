import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { Readable } from 'node:stream';
import type { FromWorker, PgpFailureReason, PgpJob, PgpOperation, ToWorker } from './pgp-worker.js';
import type { StorageKeyring } from './storage-keyring.js';

/**
 * Documents at rest: OpenPGP encryption to the hub's storage key and decryption with any key of
 * its ring, as Node streams, done in a small pool of worker threads (pgp-worker.ts) so the event
 * loop keeps serving requests and queue jobs while documents of hundreds of MB go through.
 *
 * Memory does not grow with a document's size: the worker asks for input a chunk at a time,
 * keeps a few chunks queued, and stops producing output when the reader stops reading; the main
 * thread only moves buffers. What does grow, once, is the heap of dead buffers each thread's
 * garbage collector lets pile up before it runs (docs/decisions/0011).
 *
 * The worker threads (PgpWorkers, made at wiring from documents.pgpWorkers) outlive jobs and are
 * shared by all of them; a job whose worker dies fails with a PgpStreamError, and the next job
 * gets a new worker.
 *
 * Trust: decryption authenticates every 256 KiB chunk before releasing it, but a tampered
 * chunk further on, or a truncated message, is only detected when the stream gets there (the
 * final tag covers the total length). Output read before the stream has ended without error is
 * NOT trustworthy: spool or discard it, and act on the content only after 'end'.
 */

/** OpenPGP refused: `reason` says whether no storage key opens it or it is not intact. */
export class PgpStreamError extends Error {
  constructor(
    readonly reason: PgpFailureReason | 'worker',
    message: string,
  ) {
    super(message);
    this.name = 'PgpStreamError';
  }
}

const describe: Record<PgpFailureReason, string> = {
  'no-key': 'none of the hub storage keys can decrypt this content',
  'not-intact': 'the ciphertext is not intact (tampered with, truncated, or no OpenPGP message at all): it failed its OpenPGP integrity check',
  failed: 'OpenPGP failed',
};

interface PoolSlot {
  worker: Worker;
  /** Jobs running on this worker, each failed if the worker dies. */
  jobs: Set<(error: Error) => void>;
}

/**
 * The hub's OpenPGP worker threads (documents.pgpWorkers): made once at wiring (startHub) and
 * shared by every document that goes in or out. Threads start on first use, up to `size`.
 */
export class PgpWorkers {
  private readonly slots: PoolSlot[] = [];

  constructor(private readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`documents.pgpWorkers must be a positive integer, not ${size}`);
  }

  run(op: PgpOperation, keys: string[], input: Readable): Readable {
    const slot = this.leastBusySlot();
    const { port1, port2 } = new MessageChannel();
    const job: PgpJob = { port: port2, op, keys };
    slot.worker.postMessage(job, [port2]);
    const output = streamThrough(port1, input, () => slot.jobs.delete(fail));
    const fail = (error: Error) => output.destroy(error);
    slot.jobs.add(fail);
    return output;
  }

  /** An idle worker if there is one, else a new one while the pool is not full, else the least busy. */
  private leastBusySlot(): PoolSlot {
    const idle = this.slots.find((slot) => slot.jobs.size === 0);
    if (idle) return idle;
    if (this.slots.length < this.size) return this.spawn();
    return this.slots.reduce((best, slot) => (slot.jobs.size < best.jobs.size ? slot : best));
  }

  private spawn(): PoolSlot {
    const worker = new Worker(new URL('./pgp-worker.ts', import.meta.url));
    // An idle worker must not keep the process alive; a running job's port does.
    worker.unref();
    const slot: PoolSlot = { worker, jobs: new Set() };
    const retire = (error: Error) => {
      const index = this.slots.indexOf(slot);
      if (index >= 0) this.slots.splice(index, 1);
      for (const fail of [...slot.jobs]) fail(new PgpStreamError('worker', `the OpenPGP worker stopped: ${error.message}`));
    };
    worker.on('error', retire);
    worker.on('exit', (code) => retire(new Error(`exit code ${code}`)));
    this.slots.push(slot);
    return slot;
  }

  /** Stops the worker threads; jobs still running fail. A later job starts new threads. */
  async close(): Promise<void> {
    await Promise.all(this.slots.splice(0).map((slot) => slot.worker.terminate()));
  }
}

const INPUT_BATCH_BYTES = 256 * 1024;

/** The main thread's half of one job: feeds `input` to the worker, and reads its output. */
function streamThrough(port: MessagePort, input: Readable, onSettled: () => void): Readable {
  const send = (message: ToWorker, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);
  const chunks = input[Symbol.asyncIterator]() as AsyncIterator<Buffer | Uint8Array | string>;
  let settled = false;
  const settle = () => {
    if (settled) return;
    settled = true;
    port.close();
    onSettled();
  };
  const output = new Readable({
    read() {
      if (!settled) send({ type: 'pull' });
    },
    destroy(error, callback) {
      const early = !settled;
      settle();
      if (early) input.destroy();
      callback(error);
    },
  });
  // Input errors reach the caller as they are (a size limit, a broken upload), not as OpenPGP's.
  // Small chunks are gathered into one of about INPUT_BATCH_BYTES: fewer messages between threads.
  let inputEnded = false;
  const feedNext = async () => {
    const parts: Uint8Array[] = [];
    let size = 0;
    try {
      while (size < INPUT_BATCH_BYTES && !inputEnded) {
        const { done, value } = await chunks.next();
        if (done) inputEnded = true;
        else {
          const bytes = typeof value === 'string' ? Buffer.from(value) : value;
          parts.push(bytes);
          size += bytes.byteLength;
        }
      }
    } catch (error) {
      if (!settled) send({ type: 'abort', message: error instanceof Error ? error.message : String(error) });
      output.destroy(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    if (settled) return;
    if (size === 0) return send({ type: 'end' });
    // A copy the worker can own: the caller may still use its own buffers.
    const batch = new Uint8Array(size);
    let offset = 0;
    for (const part of parts) {
      batch.set(part, offset);
      offset += part.byteLength;
    }
    send({ type: 'chunk', data: batch.buffer }, [batch.buffer]);
  };
  port.on('message', (message: FromWorker) => {
    switch (message.type) {
      case 'need':
        void feedNext();
        return;
      case 'data':
        output.push(Buffer.from(message.data));
        return;
      case 'end':
        settle();
        output.push(null);
        return;
      case 'error':
        output.destroy(new PgpStreamError(message.reason, `${describe[message.reason]} (${message.message})`));
        return;
    }
  });
  return output;
}

/** Ciphertext on its way out, and the storage key it is encrypted to (to record beside it). */
export type StorageCiphertext = Readable & { readonly storageKeyId: string };

/**
 * The input as one binary OpenPGP message (SEIPDv2: AES-256-GCM, 256 KiB AEAD chunks) to the
 * keyring's current key, `storageKeyId`. Chunks come out as input goes in.
 */
export function encryptForStorage(workers: PgpWorkers, keyring: StorageKeyring, input: Readable): StorageCiphertext {
  const storageKeyId = keyring.currentKeyId;
  return Object.assign(workers.run('encrypt', [keyring.armoredKey(storageKeyId)], input), { storageKeyId });
}

/**
 * The plaintext of a message encrypted to any key of the keyring. Fails the stream with a
 * PgpStreamError if no key opens it ('no-key') or it is tampered with or truncated
 * ('not-intact'), possibly after some output: trust the output only once the stream has ended.
 */
export function decryptFromStorage(workers: PgpWorkers, keyring: StorageKeyring, input: Readable): Readable {
  return workers.run('decrypt', keyring.allArmoredKeys(), input);
}

/**
 * The storage key (fingerprint) a message was encrypted to, read from its first bytes (a few
 * hundred are plenty); undefined if they do not start with a public-key encrypted session key
 * for a key of this ring. RFC 9580 §4.2 (packet framing) and §5.1 (PKESK v3 and v6).
 */
export function storageKeyIdOf(keyring: StorageKeyring, ciphertextStart: Uint8Array): string | undefined {
  const packet = firstPacket(ciphertextStart);
  if (!packet || packet.tag !== 1) return undefined;
  const body = packet.body;
  const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
  if (body[0] === 3 && body.length >= 9) return keyring.keyIdOfRecipient(hex(body.subarray(1, 9)));
  if (body[0] === 6 && body.length >= 2) {
    const size = body[1]!; // key version octet + fingerprint; 0 for an anonymous recipient
    if (size < 2 || body.length < 2 + size) return undefined;
    return keyring.keyIdOfRecipient(hex(body.subarray(3, 2 + size)));
  }
  return undefined;
}

function firstPacket(bytes: Uint8Array): { tag: number; body: Uint8Array } | undefined {
  const first = bytes[0];
  if (first === undefined || (first & 0x80) === 0) return undefined;
  let tag: number;
  let length: number;
  let offset: number;
  if (first & 0x40) {
    // OpenPGP packet format. Partial lengths (224..254) are not allowed for a PKESK.
    tag = first & 0x3f;
    const l0 = bytes[1];
    if (l0 === undefined) return undefined;
    if (l0 < 192) [length, offset] = [l0, 2];
    else if (l0 < 224 && bytes.length >= 3) [length, offset] = [((l0 - 192) << 8) + bytes[2]! + 192, 3];
    else if (l0 === 255 && bytes.length >= 6) [length, offset] = [Buffer.from(bytes.subarray(2, 6)).readUInt32BE(0), 6];
    else return undefined;
  } else {
    // Legacy packet format.
    tag = (first >> 2) & 0x0f;
    const octets = [1, 2, 4][first & 0x03];
    if (octets === undefined) return undefined;
    offset = 1 + octets;
    if (bytes.length < offset) return undefined;
    length = Buffer.from(bytes.subarray(1, offset)).readUIntBE(0, octets);
  }
  if (bytes.length < offset + length) return undefined;
  return { tag, body: bytes.subarray(offset, offset + length) };
}
