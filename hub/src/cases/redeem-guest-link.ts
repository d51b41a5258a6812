import { readFile } from 'node:fs/promises';
import type { CareTeam } from 'fhir/r4.js';
import type { Logger } from 'pino';
import { BOT_MESSAGES, createGuestAccount } from '@carehub/matrix-bridge';
import { inTransaction, type Database, type Queryable } from '../store/database.js';
import { addOutboxRow } from '../store/outbox.js';
import { findResource } from '../store/resource-store.js';
import { BY_CAREHUB, recordCaseStep } from './case-audit.js';
import { guestOfLink, markGuestJoined, type CaseGuest } from './case-guest-record.js';
import { guestLabel } from './case-guests.js';
import { caseRoomName } from './case-room-plan.js';
import { readCaseRoom } from './case-room-record.js';

export interface GuestLinkSettings {
  db: Database;
  homeserverUrl: string;
  serverName: string;
  /** cases.synapseAdminTokenFile */
  synapseAdminTokenFile: string | undefined;
  logger: Logger;
}

/** What a guest's link gives: their account, once; or why it no longer works. */
export type Redemption =
  | { kind: 'joined'; userId: string; password: string; roomName: string; accessEndsAt: Date }
  /** Used, ended, expired, or never issued: the page does not say which, so a link tells a stranger nothing. */
  | { kind: 'gone' }
  /** The homeserver could not make the account now; the link still works. */
  | { kind: 'unavailable' };

const CLOSED = new Set<CareTeam['status']>(['inactive', 'entered-in-error']);

/** The guest and case a link opens at `at`, or undefined when it opens nothing. */
async function openGuest(db: Queryable, token: string, at: Date): Promise<{ guest: CaseGuest; careTeam: CareTeam & { id: string } } | undefined> {
  const guest = await guestOfLink(db, token);
  if (!guest || guest.state !== 'issued' || guest.linkExpiresAt <= at || guest.accessEndsAt <= at) return undefined;
  const careTeam = await findResource<CareTeam & { id: string }>(db, 'CareTeam', guest.careTeamId);
  return careTeam && !CLOSED.has(careTeam.status) ? { guest, careTeam } : undefined;
}

/** Whether the link still works (the page before the guest presses the button; opening it uses nothing up). */
export async function guestLinkWorks(db: Database, token: string, at = new Date()): Promise<boolean> {
  return inTransaction(db, async (client) => (await openGuest(client, token, at)) !== undefined);
}

/**
 * Uses a guest's link, once: a limited account on the hub's homeserver (the homeserver's
 * CareHub module keeps it to rooms it is invited to), then, in one transaction with the
 * link's row locked, the guest recorded as joined (the link's hash goes), the room told, the
 * step recorded, and the room settled (`case.settle`: the account is invited). Two presses at
 * once: the second waits for the lock and finds the link used.
 */
export async function redeemGuestLink(settings: GuestLinkSettings, token: string, at = new Date()): Promise<Redemption> {
  const { db, homeserverUrl, serverName, synapseAdminTokenFile, logger } = settings;
  if (!synapseAdminTokenFile) return { kind: 'unavailable' };
  const adminToken = (await readFile(synapseAdminTokenFile, 'utf8')).trim();
  return inTransaction(db, async (client) => {
    const open = await openGuest(client, token, at);
    if (!open) return { kind: 'gone' } as const;
    const { guest, careTeam } = open;
    let account;
    try {
      account = await createGuestAccount(homeserverUrl, adminToken, serverName);
    } catch (error) {
      logger.warn({ guestId: guest.id, err: (error as Error).message }, 'could not make a guest account; the link still works');
      return { kind: 'unavailable' } as const;
    }
    await markGuestJoined(client, guest.id, account.userId);
    await recordCaseStep(client, { careTeamId: careTeam.id, step: 'guest-joined', by: BY_CAREHUB, members: [account.userId], reason: guest.member });
    await addOutboxRow(client, 'case.settle', { careTeamId: careTeam.id });
    const { roomId } = await readCaseRoom(client, careTeam.id);
    if (roomId) await addOutboxRow(client, 'room.notice', { roomId, notice: { text: BOT_MESSAGES.case.guest.joined(await guestLabel(client, guest.member)) } });
    logger.info({ guestId: guest.id, careTeamId: careTeam.id }, 'a guest used their link');
    return { kind: 'joined', userId: account.userId, password: account.password, roomName: caseRoomName(careTeam), accessEndsAt: guest.accessEndsAt } as const;
  });
}
