// The connectors' front door: what connectors share, and (as they arrive) each connector's
// worker and job contract. Other packages import '@carehub/connectors', never a file inside.

// Signing and encrypting documents to a partner's OpenPGP key, and verifying theirs.
export { generatePartnerKeys, PartnerMessageError, PartnerSignatureError, signAndEncryptForPartner, verifyAndDecryptFromPartner, type HubSigningKey } from './partner-signing/partner-signing.js';
