import { Direction, MatrixEvent, type MatrixClient } from 'matrix-js-sdk';
import type { EncryptedFile } from './encrypted-attachment.js';

/** One message of a room's history, decrypted by the bot. */
export interface HistoryMessage {
  eventId: string;
  sender: string;
  /** When the homeserver received it (origin_server_ts). */
  at: Date;
  /** m.text, m.notice, m.emote, m.file, m.image, … */
  msgtype: string;
  body: string;
  /** For a file: the encrypted attachment, its name and type. */
  file?: { file: EncryptedFile; filename: string; mimetype: string | undefined; size: number | undefined };
  /** The content as decrypted, for the keys CareHub's own events carry. */
  content: Record<string, unknown>;
  /** Whether it could not be decrypted (the bot never got its key). */
  undecryptable: boolean;
}

const PAGE = 100;

/**
 * Every message of a room from its start, in order, decrypted with the bot's keys (the bot is a
 * member from the room's creation, so every member's client shared each session with it).
 * Redacted messages and state events are left out. Read page by page from the homeserver, not
 * from the bot's sync, which holds only recent events.
 */
export async function readRoomHistory(bot: MatrixClient, roomId: string): Promise<HistoryMessage[]> {
  const mapper = bot.getEventMapper({ decrypt: false });
  const messages: HistoryMessage[] = [];
  let from: string | null = null;
  for (;;) {
    const page = await bot.createMessagesRequest(roomId, from, PAGE, Direction.Forward);
    for (const raw of page.chunk) {
      const event: MatrixEvent = mapper(raw);
      if (event.isState() || event.isRedacted()) continue;
      await bot.decryptEventIfNeeded(event);
      if (event.getType() !== 'm.room.message' && !event.isDecryptionFailure()) continue;
      const content = event.getContent();
      if (event.isDecryptionFailure()) {
        messages.push({ eventId: event.getId()!, sender: event.getSender()!, at: new Date(event.getTs()), msgtype: 'm.bad.encrypted', body: '', content: {}, undecryptable: true });
        continue;
      }
      if (content['m.relates_to'] && (content['m.relates_to'] as { rel_type?: string }).rel_type === 'm.replace') continue;
      const msgtype = typeof content['msgtype'] === 'string' ? content['msgtype'] : 'm.text';
      const body = typeof content['body'] === 'string' ? content['body'] : '';
      const file = content['file'] as EncryptedFile | undefined;
      const info = content['info'] as { mimetype?: string; size?: number } | undefined;
      messages.push({
        eventId: event.getId()!,
        sender: event.getSender()!,
        at: new Date(event.getTs()),
        msgtype,
        body,
        content,
        undecryptable: false,
        ...(file && typeof file.url === 'string'
          ? { file: { file, filename: typeof content['filename'] === 'string' ? content['filename'] : body, mimetype: info?.mimetype, size: info?.size } }
          : {}),
      });
    }
    if (!page.end || page.chunk.length === 0) return messages;
    from = page.end;
  }
}
