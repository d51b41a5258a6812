import type { CareTeam, Communication } from 'fhir/r4.js';
import type { RoomEventBase } from '@carehub/matrix-bridge';
import { carehubStructureDefinitionUrl } from '@carehub/fhir-profiles';
import type { Actor } from '../workflow/room-actor.js';
import { FROM_MATRIX } from '../workflow/receive-room-document.js';

/** On a case's CareTeam: keep what members say in its room as Communications (fhir-profiles/extensions/case-keep-conversation.json). */
export const KEEP_CONVERSATION_EXTENSION = carehubStructureDefinitionUrl('case-keep-conversation');

export const keepsConversation = (careTeam: CareTeam) => careTeam.extension?.some((e) => e.url === KEEP_CONVERSATION_EXTENSION && e.valueBoolean === true) ?? false;

/**
 * A member's message in a case room as a FHIR Communication to the case (recipient and about
 * its CareTeam), from the member's PractitionerRole, identified by its Matrix event so the same
 * message is never kept twice. Tagged as from Matrix, so it is not said back into the room.
 */
export function conversationOf(careTeam: CareTeam & { id: string }, event: RoomEventBase, actor: Actor, text: string, at: Date): Communication {
  return {
    resourceType: 'Communication',
    meta: { tag: [FROM_MATRIX] },
    identifier: [{ system: 'urn:ietf:rfc:3986', value: `matrix:roomid/${event.roomId.slice(1)}/e/${event.eventId.slice(1)}` }],
    status: 'completed',
    ...(careTeam.subject ? { subject: careTeam.subject } : {}),
    about: [{ reference: `CareTeam/${careTeam.id}` }],
    recipient: [{ reference: `CareTeam/${careTeam.id}` }],
    sent: at.toISOString(),
    ...(actor.role ? { sender: actor.role } : {}),
    payload: [{ contentString: text }],
  };
}
