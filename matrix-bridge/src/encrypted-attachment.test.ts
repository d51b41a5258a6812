import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Readable, Writable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Attachment, EncryptedAttachment, initAsync } from '@matrix-org/matrix-sdk-crypto-wasm';
import {
  AttachmentIntegrityError,
  EncryptedFileInfoError,
  createAttachmentDecryptor,
  createAttachmentEncryptor,
  decryptAttachment,
  encryptAttachment,
  type EncryptedFileInfo,
} from './encrypted-attachment.js';

/** Runs `input`, cut into pieces of uneven sizes (not multiples of the AES block), through a stream. */
async function throughStream(stream: Transform, input: Buffer, pieceSizes = [1, 15, 17, 1000, 65_537]): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for (let at = 0, i = 0; at < input.length; i++) {
    const size = pieceSizes[i % pieceSizes.length]!;
    pieces.push(input.subarray(at, at + size));
    at += size;
  }
  const output: Buffer[] = [];
  await pipeline(
    Readable.from(pieces),
    stream,
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        output.push(chunk);
        callback();
      },
    }),
  );
  return Buffer.concat(output);
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('base64').replace(/=+$/, '');
const fromBase64 = (text: string) => Buffer.from(text, 'base64');

/** A copy of the ciphertext with one bit flipped somewhere in the middle. */
function flipOneBit(ciphertext: Buffer): Buffer {
  const copy = Buffer.from(ciphertext);
  copy[copy.length >> 1]! ^= 0x01;
  return copy;
}

describe('Matrix encrypted attachments (AES-CTR-256, spec "Sending encrypted attachments")', () => {
  test('decrypts the v2 test vectors of matrix-org/matrix-encrypt-attachment (test/decrypt.Spec.js)', () => {
    // These vectors predate the spec's `ext: true` in the JWK; received files may lack it too.
    const info = (iv: string, k: string, hash: string) =>
      ({ v: 'v2', iv, key: { kty: 'oct', key_ops: ['encrypt', 'decrypt'], alg: 'A256CTR', k }, hashes: { sha256: hash } }) as unknown as EncryptedFileInfo;
    const vectors: Array<[ciphertext: string, file: EncryptedFileInfo, plaintext: string]> = [
      ['', info('AAAAAAAAAAAAAAAAAAAAAA', 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU'), ''],
      ['5xJZTt5cQicm+9f4', info('//////////8AAAAAAAAAAA', '__________________________________________8', 'YzF08lARDdOCzJpzuSwsjTNlQc4pHxpdHcXiD/wpK6k'), 'SGVsbG8sIFdvcmxk'],
      [
        'zhtFStAeFx0s+9L/sSQO+WQMtldqYEHqTxMduJrCIpnkyer09kxJJuA4K+adQE4w+7jZe/vR9kIcqj9rOhDR8Q',
        info('//////////8AAAAAAAAAAA', '__________________________________________8', 'IOq7/dHHB+mfHfxlRY5XMeCWEwTPmlf4cJcgrkf6fVU'),
        'YWxwaGFudW1lcmljYWxseWFscGhhbnVtZXJpY2FsbHlhbHBoYW51bWVyaWNhbGx5YWxwaGFudW1lcmljYWxseQ',
      ],
    ];
    for (const [ciphertext, file, plaintext] of vectors) {
      expect(decryptAttachment(fromBase64(ciphertext), file).toString('base64')).toBe(fromBase64(plaintext).toString('base64'));
    }
    expect(decryptAttachment(fromBase64(vectors[1]![0]), vectors[1]![1]).toString()).toBe('Hello, World');
  });

  test('a referral document survives the round trip; the file info has the shape the spec prescribes', () => {
    const plaintext = randomBytes(100_003);
    const { ciphertext, file } = encryptAttachment(plaintext);

    expect(ciphertext.length).toBe(plaintext.length);
    expect(ciphertext.equals(plaintext)).toBe(false);
    expect(decryptAttachment(ciphertext, file).equals(plaintext)).toBe(true);

    expect(file).toEqual({
      v: 'v2',
      key: { kty: 'oct', alg: 'A256CTR', ext: true, key_ops: ['encrypt', 'decrypt'], k: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) },
      iv: expect.stringMatching(/^[A-Za-z0-9+/]{22}$/),
      hashes: { sha256: sha256(ciphertext) },
    });
    const iv = fromBase64(file.iv);
    expect(iv.length).toBe(16);
    expect(iv.subarray(8).equals(Buffer.alloc(8))).toBe(true); // the 64-bit block counter starts at 0
    expect(Buffer.from(file.key.k, 'base64url').length).toBe(32);
    expect(file.hashes.sha256).not.toBe(sha256(plaintext)); // the hash is of the ciphertext

    // A fresh key and IV for every file.
    const again = encryptAttachment(plaintext);
    expect(again.file.key.k).not.toBe(file.key.k);
    expect(again.file.iv.slice(0, 11)).not.toBe(file.iv.slice(0, 11));
  });

  test('streaming encryption and decryption agree with the one-shot functions, chunk boundaries anywhere', async () => {
    const plaintext = randomBytes(300_001);

    const encryptor = createAttachmentEncryptor();
    const streamedCiphertext = await throughStream(encryptor, plaintext);
    const streamedFile = encryptor.done();
    expect(streamedFile.hashes.sha256).toBe(sha256(streamedCiphertext));
    expect(streamedFile).toMatchObject({ v: 'v2', key: { kty: 'oct', alg: 'A256CTR', ext: true, key_ops: ['encrypt', 'decrypt'] } });
    expect(decryptAttachment(streamedCiphertext, streamedFile).equals(plaintext)).toBe(true);

    const { ciphertext, file } = encryptAttachment(plaintext);
    const streamedPlaintext = await throughStream(createAttachmentDecryptor(file), ciphertext, [7, 4096, 33]);
    expect(streamedPlaintext.equals(decryptAttachment(ciphertext, file))).toBe(true);
    expect(streamedPlaintext.equals(plaintext)).toBe(true);
  });

  test('the streams pass data on as it comes (nothing is buffered whole), and done() waits for the end', async () => {
    const plaintext = randomBytes(64 * 1024);
    const encryptor = createAttachmentEncryptor();
    const firstCiphertext = once(encryptor, 'data') as Promise<[Buffer]>;
    encryptor.write(plaintext.subarray(0, 1000));
    const [head] = await firstCiphertext;
    expect(head.length).toBe(1000);
    expect(() => encryptor.done()).toThrow('before the stream ended');
    const rest: Buffer[] = [];
    encryptor.on('data', (chunk: Buffer) => rest.push(chunk));
    encryptor.end(plaintext.subarray(1000));
    await once(encryptor, 'end');
    const ciphertext = Buffer.concat([head, ...rest]);

    const decryptor = createAttachmentDecryptor(encryptor.done());
    const firstPlaintext = once(decryptor, 'data') as Promise<[Buffer]>;
    decryptor.write(ciphertext.subarray(0, 1000));
    const [decryptedHead] = await firstPlaintext;
    expect(decryptedHead.equals(plaintext.subarray(0, 1000))).toBe(true);
    decryptor.destroy();
  });

  test('a tampered, truncated or re-hashed ciphertext is refused before anything is decrypted', () => {
    const { ciphertext, file } = encryptAttachment(randomBytes(4096));
    expect(() => decryptAttachment(flipOneBit(ciphertext), file)).toThrow(AttachmentIntegrityError);
    expect(() => decryptAttachment(ciphertext.subarray(0, 4000), file)).toThrow(AttachmentIntegrityError);
    expect(() => decryptAttachment(Buffer.concat([ciphertext, Buffer.from([0])]), file)).toThrow(AttachmentIntegrityError);
    const otherHash = { ...file, hashes: { sha256: sha256(Buffer.from('another file')) } };
    expect(() => decryptAttachment(ciphertext, otherHash)).toThrow('does not match its hashes.sha256');
  });

  test('the streaming decryptor errors at the end on a tampered ciphertext (its output so far is to be thrown away)', async () => {
    const { ciphertext, file } = encryptAttachment(randomBytes(200_000));
    await expect(throughStream(createAttachmentDecryptor(file), flipOneBit(ciphertext))).rejects.toThrow(AttachmentIntegrityError);
    await expect(throughStream(createAttachmentDecryptor(file), ciphertext.subarray(1))).rejects.toThrow(AttachmentIntegrityError);
  });

  test('a bad key, IV, hash or version is refused with a message saying which, before any bytes are read', () => {
    const { ciphertext, file } = encryptAttachment(randomBytes(64));
    const broken: Array<[EncryptedFileInfo, string]> = [
      [{ ...file, key: { ...file.key, k: file.key.k.slice(0, 20) } }, 'key is 15 bytes, expected 32'],
      [{ ...file, key: { ...file.key, k: 'not base64 at all!' } }, 'key is not base64'],
      [{ ...file, key: { ...file.key, alg: 'A128CTR' as 'A256CTR' } }, 'not an A256CTR JWK'],
      [{ ...file, key: { ...file.key, key_ops: ['encrypt'] } }, 'not for decryption'],
      [{ ...file, iv: Buffer.alloc(12).toString('base64') }, 'iv is 12 bytes, expected 16'],
      [{ ...file, hashes: {} as EncryptedFileInfo['hashes'] }, 'hashes.sha256 is not base64'],
      [{ ...file, v: 'v1' as 'v2' }, 'version "v1" is not supported'],
    ];
    for (const [info, message] of broken) {
      expect(() => decryptAttachment(ciphertext, info)).toThrow(EncryptedFileInfoError);
      expect(() => decryptAttachment(ciphertext, info)).toThrow(message);
      expect(() => createAttachmentDecryptor(info)).toThrow(message);
    }
  });

  describe('interoperability with the Rust crypto of matrix-js-sdk (@matrix-org/matrix-sdk-crypto-wasm)', () => {
    beforeAll(async () => {
      await initAsync();
    });

    test('a file we encrypt, one-shot or streaming, decrypts with Attachment.decrypt; Rust refuses it tampered with', async () => {
      const plaintext = randomBytes(250_000);
      const { ciphertext, file } = encryptAttachment(plaintext);
      const decrypted = Attachment.decrypt(new EncryptedAttachment(new Uint8Array(ciphertext), JSON.stringify(file)));
      expect(Buffer.from(decrypted).equals(plaintext)).toBe(true);

      const encryptor = createAttachmentEncryptor();
      const streamedCiphertext = await throughStream(encryptor, plaintext);
      const fromStream = Attachment.decrypt(new EncryptedAttachment(new Uint8Array(streamedCiphertext), JSON.stringify(encryptor.done())));
      expect(Buffer.from(fromStream).equals(plaintext)).toBe(true);

      expect(() => Attachment.decrypt(new EncryptedAttachment(new Uint8Array(flipOneBit(ciphertext)), JSON.stringify(file)))).toThrow('Hash mismatch');
    });

    test('a file Rust encrypts (Attachment.encrypt) decrypts with ours, one-shot and streaming', async () => {
      const plaintext = randomBytes(250_000);
      const encrypted = Attachment.encrypt(plaintext);
      const file = JSON.parse(encrypted.mediaEncryptionInfo!) as EncryptedFileInfo;
      const ciphertext = Buffer.from(encrypted.encryptedData);
      expect(file).toMatchObject({ v: 'v2', key: { kty: 'oct', alg: 'A256CTR' } });

      expect(decryptAttachment(ciphertext, file).equals(plaintext)).toBe(true);
      expect((await throughStream(createAttachmentDecryptor(file), ciphertext)).equals(plaintext)).toBe(true);
      expect(() => decryptAttachment(flipOneBit(ciphertext), file)).toThrow(AttachmentIntegrityError);
    });
  });
});
