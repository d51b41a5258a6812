import { escapeHtml } from './referral-message.js';
import { inThread } from './room-state.js';

/** Content key inside an (encrypted) message that names the FHIR Communication it says. */
export const CAREHUB_COMMUNICATION_KEY = 'org.carehub.communication';

/** Room events stay well under Synapse's 64 KiB; a longer Communication is cut, and says where the rest is. */
const MAX_TEXT = 16_000;

/**
 * An integrator's Communication as a message in a room: the sending organisation's name first,
 * so members see whose words they are (the bot only carries them), then the text. In a
 * referral's thread when `threadRoot` is given. Sent encrypted, like all the room's messages.
 */
export function renderCommunication(sender: string, text: string, communication: string, threadRoot?: string) {
  const shown = text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}… (shortened: the whole text is in ${communication})` : text;
  return {
    msgtype: 'm.text' as const,
    body: `💬 ${sender}: ${shown}`,
    format: 'org.matrix.custom.html',
    formatted_body: `<b>💬 ${escapeHtml(sender)}:</b> ${escapeHtml(shown).replace(/\n/g, '<br>')}`,
    [CAREHUB_COMMUNICATION_KEY]: communication,
    ...(threadRoot ? inThread(threadRoot) : {}),
  };
}
