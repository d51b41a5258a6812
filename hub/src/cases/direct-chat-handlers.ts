import { randomBytes } from 'node:crypto';
import type { CareTeam, Consent, Organization, Patient, PractitionerRole } from 'fhir/r4.js';
import type { Logger } from 'pino';
import { BOT_MESSAGES, type DirectChatEvent, type DirectChatHandlers, type DirectCommand } from '@carehub/matrix-bridge';
import { organizationMayRead } from '../access/access-policy.js';
import { assertCanModify, stampOwner, type Writer } from '../auth/ownership.js';
import { humanNameText } from '../fhir/human-name.js';
import { FhirError } from '../fhir/operation-outcome.js';
import { parseReference } from '../fhir/references.js';
import { createResource, updateResource } from '../fhir/resource-writer.js';
import { rolesOfMatrixUser } from '../routing/roles-of-matrix-user.js';
import { inTransaction, type Database, type Queryable } from '../store/database.js';
import { addOutboxRow } from '../store/outbox.js';
import { findResource, findResourcesContaining, readResourceForUpdate } from '../store/resource-store.js';
import { firstTimeSeen } from '../workflow/inbound-events.js';
import type { WriteContext } from '../workflow/write-context.js';
import { attemptWrite } from './attempt-write.js';
import { referFromMatrix } from './refer-from-matrix.js';
import { caseNumberOf } from './case-room-plan.js';
import { CASE_ROLE } from './case-roles.js';
import { organizationOfMember } from './case-participants.js';
import { readDirectChat, saveDirectChat, type DirectChatRecord } from './direct-chat-record.js';
import { searchDirectory } from './directory-search.js';

/** What a request in the chat is handled with, in its transaction. */
interface ChatAtHand {
  client: Queryable;
  chat: DirectChatRecord;
  role: PractitionerRole & { id: string };
  /** The counsellor's organisation, as the writer of what the bot records for her. */
  writer: Writer;
  say(text: string): Promise<void>;
}

const CONSENT_SCOPE = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy', display: 'Privacy Consent' }] };
const CONSENT_CATEGORY = [{ coding: [{ system: 'http://loinc.org', code: '59284-0', display: 'Patient Consent' }] }];

const nameMatches = (patient: Patient, name: string) => (humanNameText(patient.name) ?? '').toLowerCase().replace(/\s+/g, ' ') === name.toLowerCase().replace(/\s+/g, ' ');

/** The identifier system of case numbers the bot gives cases it opens. */
const CASE_NUMBER_SYSTEM = 'urn:carehub:case-number';

/** A new case number: short, unguessable, and saying nothing about the person. */
const newCaseNumber = () => `CH-${new Date().getUTCFullYear()}-${randomBytes(3).toString('hex').toUpperCase()}`;

/**
 * What the bot does with what a member writes in their direct chat: it acts for the member's
 * PractitionerRole (the directory says who they are) and records what they ask for as FHIR,
 * written for their organisation through the one write path, so the same access policy,
 * validation and Consent check apply as to an integrator's writes. Each message is acted on
 * once, and every message gets an answer.
 */
export function directChatHandlers(deps: { db: Database; writes: WriteContext; logger: Logger }): DirectChatHandlers {
  const { db, writes, logger } = deps;

  const findOrCreatePatient = async ({ client, writer }: ChatAtHand, name: string, birthDate: string): Promise<string> => {
    for (const patient of await findResourcesContaining<Patient & { id: string }>(client, 'Patient', { birthDate })) {
      if (nameMatches(patient, name) && (await organizationMayRead(client, writer.organization, 'Patient', patient.id))) return `Patient/${patient.id}`;
    }
    const parts = name.trim().split(/\s+/);
    const family = parts.length > 1 ? parts.pop()! : undefined;
    const created = await createResource<Patient>(writes, client, stampOwner({ resourceType: 'Patient', name: [{ text: name, ...(family ? { family } : {}), ...(parts.length ? { given: parts } : {}) }], birthDate }, writer));
    return `Patient/${created.id}`;
  };

  /** Opens the case (a CareTeam with the counsellor as moderator); a refusal (no Consent) is said and the case waits for it. */
  const openCase = async (hand: ChatAtHand, patient: string, reason: string | undefined): Promise<void> => {
    const careTeam: CareTeam = stampOwner(
      {
        resourceType: 'CareTeam',
        status: 'active',
        identifier: [{ system: CASE_NUMBER_SYSTEM, value: newCaseNumber() }],
        category: [{ text: 'Care counselling' }],
        subject: { reference: patient },
        period: { start: new Date().toISOString() },
        managingOrganization: [{ reference: hand.writer.organization }],
        ...(reason ? { reasonCode: [{ text: reason }] } : {}),
        participant: [{ role: [{ coding: [CASE_ROLE.moderator] }], member: { reference: `PractitionerRole/${hand.role.id}` } }],
      },
      hand.writer,
    );
    const result = await attemptWrite(hand.client, () => createResource(writes, hand.client, careTeam));
    if (result instanceof FhirError) {
      hand.chat.pending = { patient, ...(reason ? { reason } : {}) };
      return hand.say(BOT_MESSAGES.direct.needsConsent(result.message));
    }
    hand.chat.pending = undefined;
    hand.chat.careTeamId = result.id;
    const person = await findResource<Patient>(hand.client, 'Patient', patient.replace('Patient/', ''));
    return hand.say(BOT_MESSAGES.direct.opened(caseNumberOf(result), humanNameText(person?.name) ?? patient));
  };

  const currentCase = async (hand: ChatAtHand): Promise<(CareTeam & { id: string }) | undefined> =>
    hand.chat.careTeamId ? findResource<CareTeam & { id: string }>(hand.client, 'CareTeam', hand.chat.careTeamId) : undefined;

  const chosen = (hand: ChatAtHand, numbers: number[]) => {
    const missing = numbers.find((n) => !hand.chat.choices[n - 1]);
    return missing === undefined ? numbers.map((n) => hand.chat.choices[n - 1]!) : missing;
  };

  const organizationName = async (client: Queryable, reference: string) =>
    (await findResource<Organization>(client, 'Organization', reference.replace('Organization/', '')))?.name ?? reference;

  const act = async (command: DirectCommand, hand: ChatAtHand): Promise<void> => {
    const { client, chat, writer, say } = hand;
    switch (command.kind) {
      case 'help':
        return say(BOT_MESSAGES.direct.help);
      case 'unknown':
        return say(`${BOT_MESSAGES.direct.unknown(command.text)}\n${BOT_MESSAGES.direct.help}`);
      case 'open':
        return openCase(hand, await findOrCreatePatient(hand, command.name, command.birthDate), command.reason);
      case 'consent': {
        const patient = chat.pending?.patient ?? (await currentCase(hand))?.subject?.reference;
        if (!patient) return say(BOT_MESSAGES.direct.noCase);
        const picked = chosen(hand, command.choices);
        if (typeof picked === 'number') return say(BOT_MESSAGES.direct.noSuchChoice(picked));
        const covered = [writer.organization];
        for (const choice of picked) {
          const organization = await organizationOfMember(client, choice.ref);
          if (organization && !covered.includes(organization)) covered.push(organization);
        }
        const consent: Consent = stampOwner(
          {
            resourceType: 'Consent',
            status: 'active',
            scope: CONSENT_SCOPE,
            category: CONSENT_CATEGORY,
            patient: { reference: patient },
            dateTime: new Date().toISOString(),
            performer: [{ reference: patient }],
            organization: [{ reference: writer.organization }],
            // How it was given, as the counsellor said it: the source this Consent is recorded from.
            sourceAttachment: { contentType: 'text/plain', title: `Recorded in CareHub by ${chat.userId}: ${command.how}` },
            policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
            provision: { type: 'permit', actor: covered.slice(1).map((reference) => ({ role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }] }, reference: { reference } })) },
          },
          writer,
        );
        const stored = await attemptWrite(client, () => createResource(writes, client, consent));
        if (stored instanceof FhirError) return say(BOT_MESSAGES.direct.refused(stored.message));
        await say(BOT_MESSAGES.direct.consentRecorded(command.how, await Promise.all(covered.map((o) => organizationName(client, o)))));
        if (chat.pending) return openCase(hand, chat.pending.patient, chat.pending.reason);
        return;
      }
      case 'search':
        chat.choices = await searchDirectory(client, command.query);
        return say(BOT_MESSAGES.direct.choices(chat.choices.map((c) => c.label)));
      case 'invite': {
        const careTeam = await currentCase(hand);
        if (!careTeam) return say(BOT_MESSAGES.direct.noCase);
        if (chat.choices.length === 0) return say(BOT_MESSAGES.direct.noChoices);
        const picked = chosen(hand, command.choices);
        if (typeof picked === 'number') return say(BOT_MESSAGES.direct.noSuchChoice(picked));
        const updated = await attemptWrite(client, async () => {
          const current = await readResourceForUpdate<CareTeam & { id: string }>(client, 'CareTeam', careTeam.id);
          assertCanModify(current, writer);
          const present = new Set((current.participant ?? []).filter((p) => !p.period?.end).map((p) => p.member?.reference));
          const added = picked.filter((choice) => !present.has(choice.ref)).map((choice) => ({ member: { reference: choice.ref }, period: { start: new Date().toISOString() } }));
          return updateResource(writes, client, { ...current, participant: [...(current.participant ?? []), ...added] });
        });
        if (updated instanceof FhirError) return say(BOT_MESSAGES.direct.refused(updated.message));
        return say(BOT_MESSAGES.direct.invited(picked.map((c) => c.label)));
      }
      case 'refer': {
        const careTeam = await currentCase(hand);
        if (!careTeam?.subject) return say(BOT_MESSAGES.direct.noCase);
        const picked = chosen(hand, [command.choice]);
        if (typeof picked === 'number') return say(picked ? BOT_MESSAGES.direct.noSuchChoice(picked) : BOT_MESSAGES.direct.noChoices);
        const target = picked[0]!;
        const sent = await attemptWrite(client, () => referFromMatrix(writes, client, { careTeam, requesterRole: `PractitionerRole/${hand.role.id}`, owner: target.ref, request: command.request, writer }));
        if (sent instanceof FhirError) return say(BOT_MESSAGES.direct.refused(sent.message));
        return say(BOT_MESSAGES.direct.referred(target.label));
      }
      case 'list':
      case 'use': {
        const cases = (await findResourcesContaining<CareTeam & { id: string }>(client, 'CareTeam', { participant: [{ member: { reference: `PractitionerRole/${hand.role.id}` } }] })).filter(
          (c) => c.status === 'active' || c.status === 'proposed' || c.status === 'suspended',
        );
        if (command.kind === 'list') return say(BOT_MESSAGES.direct.cases(cases.map((c) => `${caseNumberOf(c)}${c.reasonCode?.[0]?.text ? ` — ${c.reasonCode[0].text}` : ''}`)));
        const picked = cases[command.choice - 1];
        if (!picked) return say(BOT_MESSAGES.direct.noSuchChoice(command.choice));
        chat.careTeamId = picked.id;
        return say(BOT_MESSAGES.direct.using(caseNumberOf(picked)));
      }
    }
  };

  return {
    request: async (event: DirectChatEvent) => {
      await inTransaction(db, async (client) => {
        if (!(await firstTimeSeen(client, event, event.happening.command.kind))) return;
        const say = async (text: string) => {
          await addOutboxRow(client, 'room.notice', { roomId: event.roomId, notice: { text, inReplyTo: event.eventId } });
        };
        const role = (await rolesOfMatrixUser(client, event.sender))[0];
        const organization = role?.organization?.reference;
        if (!role || !organization || !parseReference({ reference: organization })) return say(BOT_MESSAGES.direct.notInDirectory);
        const chat = await readDirectChat(client, event.roomId, event.sender);
        chat.roleId = role.id;
        await act(event.happening.command, { client, chat, role, writer: { organization, roles: [] }, say });
        await saveDirectChat(client, chat);
      });
      logger.info({ roomId: event.roomId, eventId: event.eventId, request: event.happening.command.kind }, 'acted on a direct chat request');
    },
  };
}
