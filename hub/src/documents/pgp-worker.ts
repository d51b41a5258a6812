// OpenPGP work for the hub, in a worker thread (pgp-stream.ts runs a pool of them) so that
// encrypting and decrypting documents of hundreds of MB never stalls the main event loop: HTTP,
// the queue and the Matrix bot keep being served.
//
// Node loads this file as it is, with its built-in type stripping (Node >= 22.18), under tsx,
// jest or plain node alike: so it may only use erasable TypeScript (no enums, no parameter
// properties) and `import type` for anything that is only a type.
//
// Protocol, one MessagePort per job. The main thread sends {op, keys, port} to the worker.
//  - input: the worker asks {type:'need'} for one chunk at a time, and the main thread answers
//    {type:'chunk'}, {type:'end'} or {type:'abort'}; the worker keeps at most INPUT_CHUNKS_AHEAD
//    chunks queued, so a fast producer never fills the worker's memory;
//  - output: the worker sends {type:'data'} while it has credit, then {type:'end'} or
//    {type:'error'}; it starts with OUTPUT_CHUNKS_AHEAD credits and the main thread gives one back
//    ({type:'pull'}) each time its reader wants more, so a slow reader stops the worker.
// Either side closing the port ends the job; the worker then cancels its OpenPGP streams.
import { randomBytes } from 'node:crypto';
import { parentPort, type MessagePort } from 'node:worker_threads';
import * as openpgp from 'openpgp';

export type PgpOperation = 'encrypt' | 'decrypt';

/** Why OpenPGP refused: no key of the ring opens it, its integrity check failed, or anything else. */
export type PgpFailureReason = 'no-key' | 'not-intact' | 'failed';

export interface PgpJob {
  port: MessagePort;
  op: PgpOperation;
  /** Armored private keys: the recipient to encrypt to, or every key that may decrypt. */
  keys: string[];
}

export type ToWorker = { type: 'chunk'; data: ArrayBuffer } | { type: 'end' } | { type: 'abort'; message: string } | { type: 'pull' };

export type FromWorker =
  | { type: 'need' }
  | { type: 'data'; data: ArrayBuffer }
  | { type: 'end' }
  | { type: 'error'; reason: PgpFailureReason; message: string };

const INPUT_CHUNKS_AHEAD = 4;
const OUTPUT_CHUNKS_AHEAD = 4;

// SEIPDv2 (RFC 9580 §5.13.2): AES-256 in GCM mode, 256 KiB chunks (2^(12+6) bytes), each chunk
// authenticated before its plaintext is released, and a final tag over the total length that
// catches truncation at the end. Compression would make the ciphertext's size depend on the content.
const CONFIG: Partial<openpgp.Config> = {
  aeadChunkSizeByte: 12,
  preferredCompressionAlgorithm: openpgp.enums.compression.uncompressed,
  // The default, said out loud: a SEIPDv1 message is held whole until its MDC is checked.
  allowUnauthenticatedStream: false,
};

const parsedKeys = new Map<string, Promise<openpgp.PrivateKey>>();

function privateKeyOf(armoredKey: string): Promise<openpgp.PrivateKey> {
  let key = parsedKeys.get(armoredKey);
  if (!key) {
    key = openpgp.readPrivateKey({ armoredKey });
    parsedKeys.set(armoredKey, key);
    key.catch(() => parsedKeys.delete(armoredKey));
  }
  return key;
}

async function openOutput(op: PgpOperation, keys: string[], input: ReadableStream<Uint8Array>): Promise<ReadableStream<Uint8Array>> {
  if (op === 'encrypt') {
    const encryptionKeys = await Promise.all(keys.map(async (armored) => (await privateKeyOf(armored)).toPublic()));
    return openpgp.encrypt({
      message: await openpgp.createMessage({ binary: input, format: 'binary' }),
      encryptionKeys,
      // Our own session key pins the cipher suite whatever preferences the key carries (keys made
      // before createStorageKey asked for AEAD would otherwise get SEIPDv1, which cannot stream).
      sessionKey: { data: new Uint8Array(randomBytes(32)), algorithm: 'aes256', aeadAlgorithm: 'gcm' },
      format: 'binary',
      config: CONFIG,
    }) as Promise<ReadableStream<Uint8Array>>;
  }
  const decryptionKeys = await Promise.all(keys.map(privateKeyOf));
  const message = await openpgp.readMessage({ binaryMessage: input });
  const { data } = await openpgp.decrypt({ message, decryptionKeys, format: 'binary', config: CONFIG });
  return data as ReadableStream<Uint8Array>;
}

/** Sorts OpenPGP.js's (and Node's GCM) error messages into what the caller can act on. */
function reasonOf(op: PgpOperation, message: string): PgpFailureReason {
  if (op === 'encrypt') return 'failed';
  if (/session key decryption failed|no decryption key packets found|could not find .*key/i.test(message)) return 'no-key';
  if (/authentication tag mismatch|modification detected|unable to authenticate|unexpected end|premature|truncated|error during parsing|malformed|not allowed in this context|too short/i.test(message)) {
    return 'not-intact';
  }
  return 'failed';
}

function runJob({ port, op, keys }: PgpJob): void {
  const send = (message: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);
  const inputReplies: ((message: ToWorker) => void)[] = [];
  let closed = false;

  const input = new ReadableStream<Uint8Array>(
    {
      pull: (controller) =>
        new Promise<void>((resolve) => {
          inputReplies.push((message) => {
            try {
              if (message.type === 'chunk') controller.enqueue(new Uint8Array(message.data));
              else if (message.type === 'end') controller.close();
              else controller.error(new Error(message.type === 'abort' ? message.message : 'input aborted'));
            } catch {
              // OpenPGP.js cancelled its input meanwhile (it gave up on the message): nothing to feed.
            }
            resolve();
          });
          send({ type: 'need' });
        }),
    },
    new CountQueuingStrategy({ highWaterMark: INPUT_CHUNKS_AHEAD }),
  );

  let output: ReadableStreamDefaultReader<Uint8Array> | undefined;
  let credit = OUTPUT_CHUNKS_AHEAD;
  let pumping = false;
  let done = false;
  const pump = async () => {
    if (pumping || done) return;
    pumping = true;
    try {
      output ??= (await openOutput(op, keys, input)).getReader();
      while (credit > 0 && !closed) {
        const { done: ended, value } = await output.read();
        if (closed) return;
        if (ended) {
          done = true;
          send({ type: 'end' });
          return;
        }
        if (value.byteLength === 0) continue;
        credit--;
        // A copy of its own: transferring OpenPGP.js's buffer could detach memory it still uses.
        const data = value.slice().buffer;
        send({ type: 'data', data }, [data]);
      }
    } catch (error) {
      done = true;
      const message = error instanceof Error ? error.message : String(error);
      if (!closed) send({ type: 'error', reason: reasonOf(op, message), message });
    } finally {
      pumping = false;
    }
  };

  port.on('message', (message: ToWorker) => {
    if (message.type === 'pull') {
      credit++;
      void pump();
    } else {
      inputReplies.shift()?.(message);
    }
  });
  // The main thread closes the port when the job ends or its reader gives up: stop the work.
  port.on('close', () => {
    closed = true;
    for (const reply of inputReplies.splice(0)) reply({ type: 'abort', message: 'the job was closed' });
    output?.cancel().catch(() => undefined);
  });
  void pump();
}

parentPort?.on('message', (job: PgpJob) => runJob(job));
