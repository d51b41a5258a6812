import * as openpgp from 'openpgp';
import {
  generatePartnerKeys,
  PartnerMessageError,
  PartnerSignatureError,
  signAndEncryptForPartner,
  verifyAndDecryptFromPartner,
} from './partner-signing.js';

// The hub sends a discharge letter to a municipality's case system and receives one back; each
// side signs with its own key and encrypts to the other's.
const letter = new TextEncoder().encode('Discharge letter for Ole Nielsen: wound healing well.');
type KeyPair = Awaited<ReturnType<typeof generatePartnerKeys>>;
let hub: KeyPair;
let municipality: KeyPair;
let stranger: KeyPair;

beforeAll(async () => {
  [hub, municipality, stranger] = await Promise.all([generatePartnerKeys('CareHub'), generatePartnerKeys('Nordby municipality'), generatePartnerKeys('Someone else')]);
});

const fingerprintOf = async (armoredKey: string) => (await openpgp.readKey({ armoredKey })).getFingerprint();

test('a document the hub signs and encrypts for the municipality is read and verified by the municipality, and by no one else', async () => {
  const sent = await signAndEncryptForPartner(letter, municipality.armoredPublicKey, hub);
  expect(Buffer.from(sent).includes(Buffer.from('Ole Nielsen'))).toBe(false);

  const received = await verifyAndDecryptFromPartner(sent, hub.armoredPublicKey, municipality);
  expect(Buffer.from(received.data).equals(Buffer.from(letter))).toBe(true);
  expect(received.signedBy).toBe(await fingerprintOf(hub.armoredPublicKey));
  await expect(verifyAndDecryptFromPartner(sent, hub.armoredPublicKey, stranger)).rejects.toThrow(PartnerMessageError);
});

test('an ASCII-armored document (as partners often send them) goes both ways', async () => {
  const sent = await signAndEncryptForPartner(letter, hub.armoredPublicKey, municipality, { armored: true });
  expect(sent).toMatch(/^-----BEGIN PGP MESSAGE-----/);
  const received = await verifyAndDecryptFromPartner(sent, municipality.armoredPublicKey, hub);
  expect(Buffer.from(received.data).equals(Buffer.from(letter))).toBe(true);
  expect(received.signedBy).toBe(await fingerprintOf(municipality.armoredPublicKey));
});

test('an inbound document signed by someone other than the partner is refused', async () => {
  const forged = await signAndEncryptForPartner(letter, hub.armoredPublicKey, stranger);
  await expect(verifyAndDecryptFromPartner(forged, municipality.armoredPublicKey, hub)).rejects.toThrow(PartnerSignatureError);
});

test('an inbound document that is encrypted but not signed is refused', async () => {
  const unsigned = await openpgp.encrypt({
    message: await openpgp.createMessage({ binary: letter }),
    encryptionKeys: await openpgp.readKey({ armoredKey: hub.armoredPublicKey }),
    format: 'binary',
  });
  await expect(verifyAndDecryptFromPartner(unsigned, municipality.armoredPublicKey, hub)).rejects.toThrow(new PartnerSignatureError('the document is not signed'));
});

test('a tampered inbound document is refused', async () => {
  const sent = await signAndEncryptForPartner(letter, hub.armoredPublicKey, municipality);
  const tampered = Buffer.from(sent);
  tampered[tampered.length - 40]! ^= 0xff;
  const refusal = verifyAndDecryptFromPartner(tampered, municipality.armoredPublicKey, hub);
  await expect(refusal).rejects.toThrow(PartnerMessageError);
  await expect(refusal).rejects.toThrow(/Modification detected|authenticat/i);
});
