import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { tooLarge } from './content-limits.js';

export interface ContentDigest {
  size: number;
  /** base64 SHA-1: FHIR R4 Attachment.hash */
  sha1: string;
  /** base64 SHA-256: CareHub's stronger hash beside it */
  sha256: string;
}

/**
 * Passes bytes through while counting and hashing them, and fails the stream as soon as they
 * exceed `maxSizeBytes` (413), so an oversized upload is refused without reading it all.
 */
export class DigestingStream extends Transform {
  private size = 0;
  private readonly sha1 = createHash('sha1');
  private readonly sha256 = createHash('sha256');

  constructor(private readonly maxSizeBytes: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.maxSizeBytes) {
      callback(tooLarge(this.maxSizeBytes));
      return;
    }
    this.sha1.update(chunk);
    this.sha256.update(chunk);
    callback(null, chunk);
  }

  /** Valid once the stream has ended. */
  digest(): ContentDigest {
    return { size: this.size, sha1: this.sha1.copy().digest('base64'), sha256: this.sha256.copy().digest('base64') };
  }
}

export function digestOf(bytes: Uint8Array): ContentDigest {
  return {
    size: bytes.byteLength,
    sha1: createHash('sha1').update(bytes).digest('base64'),
    sha256: createHash('sha256').update(bytes).digest('base64'),
  };
}
