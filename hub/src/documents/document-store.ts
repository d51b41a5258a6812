import { randomUUID } from 'node:crypto';
import type { Attachment, Binary, DocumentReference, Resource } from 'fhir/r4.js';
import { FhirError, issue, unprocessable } from '../fhir/operation-outcome.js';
import type { Queryable } from '../store/database.js';
import { createResource } from '../store/resource-store.js';
import { findContentOf, linkContent, storeContentBytes, type ContentCrypto, type ContentStoreDeps, type StoredContent } from './binary-content-store.js';
import { assertAllowedContentType, tooLarge, type ContentLimits } from './content-limits.js';
import { digestOf } from './content-digest.js';
import type { PgpWorkers } from './pgp-stream.js';
import type { StorageKeyring } from './storage-keyring.js';
import { binaryIdOfUrl } from '../fhir/references.js';
import { carehubStructureDefinitionUrl } from '@carehub/fhir-profiles';

/** Attachment extension carrying the SHA-256 (base64) beside FHIR's SHA-1 Attachment.hash. */
export const SHA256_EXTENSION = carehubStructureDefinitionUrl('attachment-sha256');

export interface DocumentStoreSettings extends ContentLimits {
  keyring: StorageKeyring;
}

/** The attachment as CareHub stores it: a reference to the Binary, with size and both hashes. */
export function describedAttachment(attachment: Attachment, binaryId: string, content: StoredContent): Attachment {
  const { data: _data, ...rest } = attachment;
  return {
    ...rest,
    contentType: attachment.contentType ?? content.contentType,
    url: `Binary/${binaryId}`,
    size: content.size,
    hash: content.sha1,
    extension: [...(attachment.extension ?? []).filter((e) => e.url !== SHA256_EXTENSION), { url: SHA256_EXTENSION, valueBase64Binary: content.sha256 }],
  };
}

/**
 * Where documents are kept (documents.* in the config): made once at wiring (startHub) and
 * handed to every writer of Binary and DocumentReference (REST, Bundles, messages, Matrix) and
 * to every reader of their content. Without a storage key folder it is the store of a hub that
 * accepts no documents: every use answers 503. The settings (the keyring) are set once the
 * storage keys are read, and again when the storage key is rotated (useSettings).
 */
export class DocumentStore {
  private current: DocumentStoreSettings | undefined;

  /** Without `workers` (no documents.storageKeyDir), the store of a hub that accepts no documents. */
  constructor(private readonly workers?: PgpWorkers) {}

  /** The settings from now on (a new keyring after a rotation); undefined stops serving documents. */
  useSettings(settings: DocumentStoreSettings | undefined): void {
    this.current = this.workers ? settings : undefined;
  }

  settings(): DocumentStoreSettings {
    if (!this.current) throw new FhirError(503, [issue('transient', 'the document store is not configured on this hub (documents.storageKeyDir)')]);
    return this.current;
  }

  /** What reading content needs (the keys to decrypt it with, and the threads that do it). */
  crypto(): ContentCrypto {
    return { keyring: this.settings().keyring, workers: this.workers! };
  }

  contentStoreDeps(): ContentStoreDeps {
    const s = this.settings();
    return { keyring: s.keyring, workers: this.workers!, maxSizeBytes: s.maxSizeBytes };
  }

  /** Stops serving documents and the OpenPGP threads; jobs still running fail. */
  async close(): Promise<void> {
    this.current = undefined;
    await this.workers?.close();
  }

  /** Stores bytes as a new Binary (resource and encrypted content) in the caller's transaction. */
  async createBinary(db: Queryable, bytes: Uint8Array, contentType: string, template: Partial<Binary> = {}): Promise<{ binary: Binary & { id: string }; content: StoredContent }> {
    const content = await storeContentBytes(db, this.contentStoreDeps(), bytes, contentType);
    const binary = await createResource<Binary>(db, { ...template, resourceType: 'Binary', contentType }, randomUUID());
    await linkContent(db, content.contentId, binary.id!, binary.meta!.versionId!);
    return { binary: binary as Binary & { id: string }, content };
  }

  /**
   * A DocumentReference's attachments before it is stored (FHIR R4 documentreference.html):
   * inline content (`data`) becomes an encrypted Binary and a reference to it; a reference to a
   * Binary must point at one the hub holds, with the size and hash it has. Either way the stored
   * attachment carries size, SHA-1 hash and SHA-256 extension, checked or filled in by the hub.
   */
  async prepareDocumentReference(db: Queryable, document: DocumentReference, path: string): Promise<DocumentReference> {
    const { allowedContentTypes, maxSizeBytes } = this.settings();
    const content = [];
    for (const [index, item] of document.content.entries()) {
      const at = `${path}.content[${index}].attachment`;
      const attachment = item.attachment;
      if (attachment.data !== undefined) {
        const type = assertAllowedContentType(attachment.contentType, { allowedContentTypes, maxSizeBytes }, `${at}.contentType`);
        const bytes = Buffer.from(attachment.data, 'base64');
        if (bytes.length > maxSizeBytes) throw tooLarge(maxSizeBytes);
        if (attachment.hash && attachment.hash !== digestOf(bytes).sha1) {
          throw unprocessable('attachment.hash is not the SHA-1 of attachment.data', [`${at}.hash`]);
        }
        if (attachment.size !== undefined && attachment.size !== bytes.length) throw unprocessable(`attachment.size ${attachment.size} is not the size of attachment.data (${bytes.length})`, [`${at}.size`]);
        const { binary, content: stored } = await this.createBinary(db, bytes, type);
        content.push({ ...item, attachment: describedAttachment(attachment, binary.id, stored) });
        continue;
      }
      const binaryId = attachment.url ? binaryIdOfUrl(attachment.url) : undefined;
      if (!binaryId) throw unprocessable('an attachment needs inline data or a url naming a Binary on this server', [at]);
      const stored = await findContentOf(db, binaryId);
      if (!stored) throw unprocessable(`${attachment.url} does not exist on this server`, [`${at}.url`]);
      if (attachment.hash && attachment.hash !== stored.sha1) throw unprocessable(`attachment.hash does not match the content of Binary/${binaryId}`, [`${at}.hash`]);
      if (attachment.size !== undefined && attachment.size !== stored.size) throw unprocessable(`attachment.size does not match the content of Binary/${binaryId} (${stored.size})`, [`${at}.size`]);
      content.push({ ...item, attachment: describedAttachment(attachment, binaryId, stored) });
    }
    return { ...document, content: content as DocumentReference['content'] };
  }

  /** What a write must do to a resource before it is stored; resources of other types pass unchanged. */
  async prepareForStore<T extends Resource>(db: Queryable, resource: T, path: string): Promise<T> {
    if (resource.resourceType === 'DocumentReference') return (await this.prepareDocumentReference(db, resource as unknown as DocumentReference, path)) as unknown as T;
    if (resource.resourceType === 'Binary' && (resource as unknown as Binary).data !== undefined) {
      throw new FhirError(422, [issue('not-supported', 'send Binary content as the raw body of POST /fhir/Binary (Content-Type: the document type), or inline in a DocumentReference', [`${path}.data`])]);
    }
    return resource;
  }
}
