import { readFile } from 'node:fs/promises';
import { UnrecoverableError, type Job } from 'bullmq';
import type { CareTeam } from 'fhir/r4.js';
import type { Logger } from 'pino';
import { EventType, type MatrixClient } from 'matrix-js-sdk';
import { BOT_MESSAGES, deactivateGuestAccount, formatLocalTime, renderNotice, type RoomSender } from '@carehub/matrix-bridge';
import { matrixTxnIdFor } from '../delivery/referral-delivery-record.js';
import type { OutboxJobData } from '../queue/queues.js';
import { inTransaction, type Database } from '../store/database.js';
import { isOutboxRowOpen, lockOutboxRow, markOutboxRowCompleted } from '../store/outbox.js';
import { findResource } from '../store/resource-store.js';
import { markGuestDeactivated, newLinkToken, readCaseGuest, saveLinkToken, tokenHash } from './case-guest-record.js';
import { guestLabel } from './case-guests.js';
import { caseNumberOf } from './case-room-plan.js';
import { readCaseRoom } from './case-room-record.js';

export interface GuestLinkDeps {
  db: Database;
  sender: RoomSender;
  /** The bot's client: it takes an ended guest out of the case room before the account goes. */
  bot: MatrixClient;
  /** http.publicBaseUrl: the link is <publicBaseUrl>/guest/<secret>. */
  publicBaseUrl: string;
  timeZone: string;
  homeserverUrl: string;
  /** cases.synapseAdminTokenFile */
  synapseAdminTokenFile: string | undefined;
  logger: Logger;
}

/** The page a guest's link opens (guest-page.ts). */
export const guestLinkUrl = (publicBaseUrl: string, token: string) => `${publicBaseUrl.replace(/\/$/, '')}/guest/${token}`;

/**
 * Sends a guest's one-time link to the moderator who invited them, in their encrypted direct
 * chat with the bot (`case.guest-link`). The secret is made here, at sending, and only its hash
 * is stored first, so it is in no outbox row, job or log; a retry after a crash makes a new one
 * (the older stops working) and sends that.
 */
export function sendGuestLink({ db, sender, publicBaseUrl, timeZone, logger }: GuestLinkDeps) {
  return async (job: Job<OutboxJobData<'case.guest-link'>>): Promise<string> => {
    const { outboxId, guestId } = job.data;
    if (!(await isOutboxRowOpen(db, outboxId))) return 'already sent';
    const token = newLinkToken();
    const guest = await inTransaction(db, async (client) => {
      const found = await readCaseGuest(client, guestId);
      if (found?.state === 'issued') await saveLinkToken(client, guestId, token);
      return found;
    });
    if (!guest) throw new UnrecoverableError(`case guest ${guestId} is gone`);
    if (guest.state === 'issued') {
      const careTeam = await findResource<CareTeam & { id: string }>(db, 'CareTeam', guest.careTeamId);
      const text = BOT_MESSAGES.case.guest.link(await guestLabel(db, guest.member), careTeam ? caseNumberOf(careTeam) : guest.careTeamId, guestLinkUrl(publicBaseUrl, token), formatLocalTime(guest.linkExpiresAt, timeZone));
      // Each attempt's link is another message: the transaction id carries the link's fingerprint.
      await sender.sendEncrypted(guest.linkRoomId, EventType.RoomMessage, renderNotice(text, {}), matrixTxnIdFor(outboxId, tokenHash(token).toString('hex').slice(0, 16)));
    }
    await markOutboxRowCompleted(db, outboxId);
    logger.info({ outboxId, guestId, sent: guest.state === 'issued' }, 'guest link sent to the inviting moderator');
    return guest.state === 'issued' ? 'sent' : `not sent: the guest is ${guest.state}`;
  };
}

/** How long the account waits for the bot's sync to show the guest gone before it is deactivated. */
const LEAVE_SEEN_WAIT_MS = 20_000;

/**
 * Waits until the bot's sync shows the guest out of the room. Deactivating deletes the guest's
 * devices, and a sync that brings that change together with the removal held up the bot's (and
 * members' clients') sync for about a minute in the stack tests; once the removal is through,
 * the deactivation comes in a sync of its own.
 */
async function untilGone(bot: MatrixClient, roomId: string, userId: string): Promise<void> {
  for (const until = Date.now() + LEAVE_SEEN_WAIT_MS; Date.now() < until; await new Promise((resolve) => setTimeout(resolve, 100))) {
    const membership = bot.getRoom(roomId)?.getMember(userId)?.membership;
    if (membership !== 'join' && membership !== 'invite') return;
  }
}

/**
 * Ends an ended guest's account (`case.guest-end`): the bot removes them from the case room,
 * then the Synapse admin API deactivates the account (their logins end, their profile is
 * erased). Safe to run again.
 */
export function endGuestAccount({ db, bot, homeserverUrl, synapseAdminTokenFile, logger }: GuestLinkDeps) {
  return async (job: Job<OutboxJobData<'case.guest-end'>>): Promise<string> => {
    const { outboxId, guestId } = job.data;
    if (!(await isOutboxRowOpen(db, outboxId))) return 'already deactivated';
    const guest = await readCaseGuest(db, guestId);
    if (guest?.userId && !guest.deactivatedAt) {
      if (!synapseAdminTokenFile) throw new UnrecoverableError('cases.synapseAdminTokenFile is needed to deactivate a guest account');
      // Out of the room first, by the bot, so the room shows it at once (the CareTeam's own
      // settling does too; whichever is first, the other finds them gone).
      const { roomId } = await readCaseRoom(db, guest.careTeamId);
      const membership = roomId ? bot.getRoom(roomId)?.getMember(guest.userId)?.membership : undefined;
      if (roomId && (membership === 'join' || membership === 'invite')) {
        await bot.kick(roomId, guest.userId, BOT_MESSAGES.case.guest.accessEndedReason).catch(() => undefined);
        await untilGone(bot, roomId, guest.userId);
      }
      await deactivateGuestAccount(homeserverUrl, (await readFile(synapseAdminTokenFile, 'utf8')).trim(), guest.userId);
    }
    await inTransaction(db, async (client) => {
      const row = await lockOutboxRow(client, outboxId);
      if (!row || row.completedAt) return;
      if (guest?.userId) await markGuestDeactivated(client, guestId);
      await markOutboxRowCompleted(client, outboxId);
    });
    logger.info({ outboxId, guestId }, 'guest account deactivated');
    return 'deactivated';
  };
}
