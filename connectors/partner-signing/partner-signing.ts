import * as openpgp from 'openpgp';

/**
 * Documents exchanged with outside partners (a municipality's case system, another region's
 * hub) travel signed by the hub and encrypted to the partner, and come back signed by the
 * partner: OpenPGP (RFC 9580 / RFC 4880) with each side's published public key. Connectors use
 * this module; the partner's key comes from its directory Endpoint or from the connector's config.
 *
 * Partners run all sorts of OpenPGP software (GnuPG 2.2 most often), so the cipher suite follows
 * the partner key's own preferences, and keys made here are v4 keys that GnuPG can import.
 * Everything is in memory: fine for letters and scans of a few MB; a connector handling larger
 * files should run this in a worker thread, as the hub does for documents at rest.
 */
export interface HubSigningKey {
  /** The hub's armored private key (signs outgoing documents, decrypts incoming ones). */
  armoredPrivateKey: string;
}

/** The message cannot be read: not encrypted to the hub's key, tampered with, or not OpenPGP. */
export class PartnerMessageError extends Error {
  override name = 'PartnerMessageError';
}

/** The message reads, but is not signed by the partner: unsigned, forged, or signed by someone else. */
export class PartnerSignatureError extends Error {
  override name = 'PartnerSignatureError';
}

/** Signs `document` with the hub's key and encrypts it to the partner's public key. */
export async function signAndEncryptForPartner(document: Uint8Array, partnerPublicKeyArmored: string, hub: HubSigningKey): Promise<Uint8Array>;
export async function signAndEncryptForPartner(
  document: Uint8Array,
  partnerPublicKeyArmored: string,
  hub: HubSigningKey,
  options: { armored: true },
): Promise<string>;
export async function signAndEncryptForPartner(
  document: Uint8Array,
  partnerPublicKeyArmored: string,
  hub: HubSigningKey,
  options?: { armored: boolean },
): Promise<Uint8Array | string> {
  const [encryptionKeys, signingKeys] = await Promise.all([
    openpgp.readKey({ armoredKey: partnerPublicKeyArmored }),
    openpgp.readPrivateKey({ armoredKey: hub.armoredPrivateKey }),
  ]);
  const message = await openpgp.createMessage({ binary: document });
  if (options?.armored) return openpgp.encrypt({ message, encryptionKeys, signingKeys, format: 'armored' });
  return openpgp.encrypt({ message, encryptionKeys, signingKeys, format: 'binary' });
}

/**
 * Decrypts a partner's message (binary, or ASCII-armored as a string) with the hub's key and
 * checks that it is signed by the partner: a message that does not decrypt or is not intact is
 * refused with PartnerMessageError, a missing, invalid or foreign signature with
 * PartnerSignatureError. Nothing is returned unless both checks pass.
 */
export async function verifyAndDecryptFromPartner(
  message: Uint8Array | string,
  partnerPublicKeyArmored: string,
  hub: HubSigningKey,
): Promise<{ data: Uint8Array; signedBy: string }> {
  const [verificationKeys, decryptionKeys] = await Promise.all([
    openpgp.readKey({ armoredKey: partnerPublicKeyArmored }),
    openpgp.readPrivateKey({ armoredKey: hub.armoredPrivateKey }),
  ]);
  let decrypted: openpgp.DecryptMessageResult & { data: Uint8Array };
  try {
    const parsed = typeof message === 'string' ? await openpgp.readMessage({ armoredMessage: message }) : await openpgp.readMessage({ binaryMessage: message });
    // expectSigned stays false so that a signature problem is told apart from a decryption one;
    // the signatures are checked below, and nothing is returned before they are.
    decrypted = await openpgp.decrypt({ message: parsed, decryptionKeys, verificationKeys, format: 'binary' });
  } catch (error) {
    throw new PartnerMessageError(`the partner's message cannot be read: ${(error as Error).message}`, { cause: error });
  }
  if (decrypted.signatures.length === 0) throw new PartnerSignatureError('the document is not signed');
  for (const signature of decrypted.signatures) {
    try {
      await signature.verified;
    } catch (error) {
      throw new PartnerSignatureError(`the document is not signed by the partner: ${(error as Error).message}`, { cause: error });
    }
  }
  return { data: decrypted.data, signedBy: verificationKeys.getFingerprint() };
}

/**
 * A new key pair for the hub or, in tests, a partner: Curve25519 as GnuPG knows it (v4 key,
 * EdDSA + ECDH on the "legacy" curve identifiers). The RFC 9580 Ed25519/X25519 algorithms that
 * OpenPGP.js calls 'curve25519' are refused by GnuPG 2.2 and 2.4, which most partners run.
 */
export async function generatePartnerKeys(name: string): Promise<{ armoredPrivateKey: string; armoredPublicKey: string }> {
  const { privateKey, publicKey } = await openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ name }], format: 'armored' });
  return { armoredPrivateKey: privateKey, armoredPublicKey: publicKey };
}
