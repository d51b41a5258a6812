import { BOT_MESSAGES } from '@carehub/matrix-bridge';
import { inTransaction, type Database } from '../store/database.js';
import { addOutboxRow } from '../store/outbox.js';
import { actorFor } from '../workflow/room-actor.js';
import { readDirectChat, saveDirectChat } from './direct-chat-record.js';

/** A direct chat the bot has just marked: remembered for its member, who is greeted with what the bot can do. */
export async function greetDirectChat(db: Database, roomId: string, userId: string): Promise<void> {
  await inTransaction(db, async (client) => {
    const actor = await actorFor(client, userId);
    const chat = await readDirectChat(client, roomId, userId);
    chat.roleId = actor.role?.reference?.replace('PractitionerRole/', '');
    await saveDirectChat(client, chat);
    await addOutboxRow(client, 'room.notice', { roomId, notice: { text: `${BOT_MESSAGES.direct.welcome(actor.name)}\n${BOT_MESSAGES.direct.help}` } });
  });
}
