import { readFile } from 'node:fs/promises';
import { UnrecoverableError, type Job } from 'bullmq';
import type { CareTeam } from 'fhir/r4.js';
import type { Logger } from 'pino';
import { EventType } from 'matrix-js-sdk';
import { BOT_MESSAGES, deactivateGuestAccount, formatLocalTime, renderNotice, type RoomSender } from '@carehub/matrix-bridge';
import { matrixTxnIdFor } from '../delivery/referral-delivery-record.js';
import type { OutboxJobData } from '../queue/queues.js';
import { inTransaction, type Database } from '../store/database.js';
import { isOutboxRowOpen, lockOutboxRow, markOutboxRowCompleted } from '../store/outbox.js';
import { findResource } from '../store/resource-store.js';
import { markGuestDeactivated, newLinkToken, readCaseGuest, saveLinkToken, tokenHash } from './case-guest-record.js';
import { guestLabel } from './case-guests.js';
import { caseNumberOf } from './case-room-plan.js';

export interface GuestLinkDeps {
  db: Database;
  sender: RoomSender;
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

/**
 * Deactivates an ended guest's account on the homeserver (`case.guest-end`, Synapse admin API):
 * their logins end and they leave every room. Safe to run again.
 */
export function endGuestAccount({ db, homeserverUrl, synapseAdminTokenFile, logger }: GuestLinkDeps) {
  return async (job: Job<OutboxJobData<'case.guest-end'>>): Promise<string> => {
    const { outboxId, guestId } = job.data;
    if (!(await isOutboxRowOpen(db, outboxId))) return 'already deactivated';
    const guest = await readCaseGuest(db, guestId);
    if (guest?.userId && !guest.deactivatedAt) {
      if (!synapseAdminTokenFile) throw new UnrecoverableError('cases.synapseAdminTokenFile is needed to deactivate a guest account');
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
