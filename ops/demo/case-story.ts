/**
 * The counsellor's story (issue #15), told after the GP referral story on the same stack: a care
 * counsellor with no case system opens a case from her own Matrix client by talking to the hub's
 * bot, records the person's Consent there, and invites the GP and a home-care nurse; a meeting is
 * booked by FHIR and answered in the room; she mutes and unmutes the nurse; she closes the case
 * and its transcript comes out as FHIR. Every line printed is read back from a client or the API.
 */
import { createHash } from 'node:crypto';
import { Preset } from 'matrix-js-sdk';
import type { Appointment, Bundle, CareTeam, Communication, DocumentReference } from 'fhir/r4.js';
import { registerSmartClient, createDatabase } from '@carehub/hub';
import { CAREHUB_APPOINTMENT_KEY, WIDGET_STATE } from '@carehub/matrix-bridge';
import { GpMatrixClient } from '../lib/gp-matrix-client.js';
import { fetchAccessToken, generateClientKeys } from '../lib/smart-client-credentials.js';
import type { RegisteredMatrixUser } from '../lib/synapse-user-registration.js';
import { TypedFhirClient } from '../lib/typed-fhir-client.js';
import { CaseRoomView, until } from './case-room-view.js';
import { retireEarlierDemoEntries } from './demo-directory-upkeep.js';
import { demoCaseDirectory } from './demo-network.js';
import { quoted, step } from './demo-output.js';

/** What the first story leaves on stage for this one. */
export interface CaseStoryStage {
  hubBaseUrl: string;
  homeserverUrl: string;
  databaseUrl: string;
  botUserId: string;
  /** The county operator's FHIR client (SMART token, operator role). */
  operator: TypedFhirClient;
  /** Organization ids the first story seeded in this run (kept when earlier runs' entries are retired). */
  organizationsOfThisRun: string[];
  /** "Organization/<id>": Nordby's care counselling office. */
  counsellingOffice: string;
  /** Dr. Jensen's own Matrix client, online since the first story, and her PractitionerRole ("PractitionerRole/<id>"). */
  gp: GpMatrixClient;
  gpRole: string;
  run: string;
  /** A new account on the hub's homeserver (the localpart gets the run's suffix). */
  newAccount(name: string): Promise<RegisteredMatrixUser & { password: string }>;
}

const PERSON = { name: 'Ole Nielsen', birthDate: '1948-03-14' };
const TRANSCRIPT_TYPE = 'Case room transcript';

export async function tellCounsellorStory(stage: CaseStoryStage): Promise<void> {
  const { operator, gp } = stage;
  const clients: GpMatrixClient[] = [];
  try {
    console.log('\n════ The counsellor’s story: a case run from her own Matrix client ════');

    step('Accounts for the care counsellor Maren Voss and the home-care nurse Mette Holm');
    const vossAccount = await stage.newAccount('maren.voss');
    const holmAccount = await stage.newAccount('mette.holm');
    console.log(`  Maren Voss: ${vossAccount.userId}\n  Mette Holm: ${holmAccount.userId}`);

    step('The county operator adds them to the directory: Maren Voss at the care counselling office, Nordby Home Care with its nurse');
    const retired = await retireEarlierDemoEntries(operator, new Set(stage.organizationsOfThisRun));
    console.log(`  ${retired} PractitionerRoles of earlier demo runs set inactive, with their organisations (so searches find today's people only)`);
    const added = await operator.transaction(demoCaseDirectory({ counsellor: vossAccount.userId, nurse: holmAccount.userId, counsellingOffice: stage.counsellingOffice }));
    const roles = added.entry!.filter((e) => e.resource?.resourceType === 'PractitionerRole').map((e) => `PractitionerRole/${e.resource!.id}`);
    const [counsellorRole, nurseRole] = roles as [string, string];
    const { gpRole } = stage;
    console.log(`  ${added.entry!.length} resources created: ${counsellorRole} (care counsellor), ${nurseRole} (home-care nurse); Dr. Jensen is ${gpRole}`);

    step('Maren Voss’s and Mette Holm’s own Matrix clients come online (their own devices, cross-signed as Element does at a first login)');
    const counsellor = await GpMatrixClient.start(stage.homeserverUrl, vossAccount);
    clients.push(counsellor);
    const nurse = await GpMatrixClient.start(stage.homeserverUrl, holmAccount);
    clients.push(nurse);
    const views = { counsellor: new CaseRoomView(counsellor), gp: new CaseRoomView(gp), nurse: new CaseRoomView(nurse) };
    console.log(`  ${counsellor.userId} on device ${vossAccount.deviceId}; ${nurse.userId} on device ${holmAccount.deviceId}`);

    step('Maren Voss starts a chat with the hub’s bot ("Start chat" in Element: a private, encrypted room)');
    const chat = (
      await counsellor.client.createRoom({
        preset: Preset.TrustedPrivateChat,
        is_direct: true,
        invite: [stage.botUserId],
        initial_state: [{ type: 'm.room.encryption', state_key: '', content: { algorithm: 'm.megolm.v1.aes-sha2' } }],
      })
    ).room_id;
    const welcome = await counsellor.waitForEvent('the bot’s welcome', (e) => e.getRoomId() === chat && String(e.getContent()['body']).startsWith('👋 Hello'));
    console.log(`  room ${chat}; the bot joins and greets her (${welcome.isEncrypted() ? 'end-to-end encrypted' : 'NOT encrypted'}), decrypted by her device:`);
    console.log(quoted(String(welcome.getContent()['body'])));

    /**
     * Maren writes in the chat; the bot's answer that the story expects (a notice replying to
     * her message), as her client shows it. Waiting for that one answer, not the first: the bot
     * may answer one message twice (consent recorded, then the case opened), and the two can
     * reach her client in either order.
     */
    const ask = async (text: string, expected: RegExp): Promise<string> => {
      console.log(`\n  Maren Voss: ${text}`);
      const eventId = await counsellor.say(chat, text);
      const answer = await counsellor
        .waitForEvent('the bot’s answer', (e) => e.getContent()['msgtype'] === 'm.notice' && e.getContent()['m.relates_to']?.['m.in_reply_to']?.event_id === eventId && expected.test(String(e.getContent()['body'])))
        .catch(() => {
          const answers = counsellor.eventsIn(chat).filter((e) => e.getContent()['m.relates_to']?.['m.in_reply_to']?.event_id === eventId);
          throw new Error(`the bot's answer to "${text.split(' ').slice(0, 2).join(' ')}…" is not what the story expects (${answers.length} other answers)`);
        });
      const body = String(answer.getContent()['body']);
      console.log(quoted(body));
      return body;
    };

    step('She opens a case about Ole Nielsen: refused for lack of consent; she finds the GP and the nurse, records the consent, and the case opens');
    await ask(`case open ${PERSON.name}, born ${PERSON.birthDate}: home care after hip replacement`, /No active Consent/);
    const found = await ask('case invite Nordby', /^Found:/);
    const choiceOf = (label: string) => {
      const line = found.split('\n').find((l) => l.replace(/^\d+\.\s*/, '').startsWith(label));
      if (!line) throw new Error(`"${label}" is not among the bot's choices`);
      return Number(/^(\d+)\./.exec(line)![1]);
    };
    const choices = [choiceOf('Dr. Karen Jensen —'), choiceOf('Mette Holm —')].join(', ');
    await ask(`consent signed form for ${choices}`, /Consent recorded \(signed form\)/);
    const opened = await counsellor.waitForEvent('the case opened', (e) => e.getRoomId() === chat && String(e.getContent()['body']).startsWith('📂 Case '));
    console.log(quoted(String(opened.getContent()['body'])));
    const caseNumber = /Case (\S+)/.exec(String(opened.getContent()['body']))![1]!;

    const roomId = await views.counsellor.joinedCaseRoom();
    const careTeamRef = String(views.counsellor.roomState(roomId)?.['careTeam']);
    console.log(`  her client is invited into the case room and joins: ${roomId}, whose org.carehub.room state names ${careTeamRef}`);
    await ask(`case invite ${choices}`, /Invited into the case/);

    step('Dr. Jensen and Mette Holm accept the invitations in their own clients');
    for (const [who, view] of [['Dr. Jensen', views.gp], ['Mette Holm', views.nurse]] as const) {
      await view.joinedCaseRoom(careTeamRef);
      console.log(`  ${who}: invited by ${view.inviterOf(roomId) ?? '(invitation not seen)'}, joined ${roomId}`);
    }
    const roomName = String((await views.nurse.storedState(roomId, 'm.room.name'))['name']);
    const personalInName = [...PERSON.name.split(' '), PERSON.birthDate].filter((part) => roomName.includes(part));
    console.log(`  the room's name, as the homeserver stores it (not encrypted): "${roomName}" — ${personalInName.length === 0 ? 'the case number and service, no name or birth date of the person' : `NAMES ${personalInName.join(', ')}`}`);
    if (personalInName.length > 0 || !roomName.includes(caseNumber)) throw new Error('the room name is not the case number and service alone');

    // The hub sends the summary again, and pins it instead, when members are invited: history is
    // visible from each invitation on, so the first one (sent when only Maren was in) is not theirs.
    for (const [who, member] of [['Dr. Jensen', gp], ['Mette Holm', nurse]] as const) {
      const summary = await member.waitForEvent('the pinned summary', (e) => e.getRoomId() === roomId && String(e.getContent()['body']).startsWith('📌 Case'), 60_000);
      // The pin follows the message by a moment.
      let pinned = false;
      for (const until = Date.now() + 15_000; !pinned && Date.now() < until; await new Promise((r) => setTimeout(r, 250))) {
        pinned = (((await views.nurse.storedState(roomId, 'm.room.pinned_events'))['pinned'] as string[] | undefined) ?? []).includes(summary.getId()!);
      }
      console.log(`  ${who}'s client reads the summary (${pinned ? 'pinned' : 'NOT pinned'}, ${summary.isEncrypted() ? 'end-to-end encrypted' : 'NOT encrypted'}), decrypted:`);
      if (who === 'Dr. Jensen') console.log(quoted(String(summary.getContent()['body'])));
      if (!summary.isEncrypted()) throw new Error('the case summary was not encrypted');
    }
    const welcomeInRoom = await counsellor.say(roomId, 'Welcome both: Mr Nielsen is home since yesterday. Let us plan his home care.');
    for (const [who, member] of [['Dr. Jensen', gp], ['Mette Holm', nurse]] as const) {
      const message = await member.waitForEvent('the counsellor’s welcome', (e) => e.getId() === welcomeInRoom);
      console.log(`  ${who}'s client decrypts what Maren writes after the invitations: "${String(message.getContent()['body'])}"`);
    }

    step('The counselling office’s system (its own SMART backend client) books a meeting: an Appointment linked to the CareTeam');
    const office = await connectOffice(stage, `nordby-counselling-${stage.run}`);
    const careTeam = await office.fhir.read<CareTeam>('CareTeam', careTeamRef.replace('CareTeam/', ''));
    console.log(`  client nordby-counselling-${stage.run} reads ${careTeamRef}: status=${careTeam.status}, case number ${careTeam.identifier?.[0]?.value}, ${careTeam.participant?.length} participants`);
    // Tomorrow morning: a time the invitation, the reminder (15 minutes ahead) and the answers all still lie before.
    const start = new Date(Date.now() + 24 * 3_600_000);
    start.setUTCHours(9, 0, 0, 0);
    const booked = await office.fhir.create<Appointment>({
      resourceType: 'Appointment',
      status: 'booked',
      description: 'Home-care planning',
      start: start.toISOString(),
      end: new Date(start.getTime() + 30 * 60_000).toISOString(),
      supportingInformation: [{ reference: careTeamRef }],
      participant: [
        { actor: { reference: counsellorRole }, status: 'accepted' },
        { actor: { reference: gpRole }, status: 'needs-action' },
        { actor: { reference: nurseRole }, status: 'needs-action' },
      ],
    });
    console.log(`  Appointment/${booked.id} (booked, ${start.toISOString()})`);
    const isInvitation = (content: Record<string, unknown>) => content[CAREHUB_APPOINTMENT_KEY] === `Appointment/${booked.id}` && String(content['body']).startsWith('📅 Case meeting');
    const invitation = await gp.waitForEvent('the meeting invitation', (e) => e.getRoomId() === roomId && isInvitation(e.getContent()));
    await nurse.waitForEvent('the meeting invitation', (e) => e.getId() === invitation.getId());
    console.log(`  the invitation, ${invitation.isEncrypted() ? 'end-to-end encrypted' : 'NOT encrypted'}, as Dr. Jensen's and Mette Holm's clients decrypt it:`);
    console.log(quoted(String(invitation.getContent()['body'])));
    const widget = await until('the meeting widget', () => nurse.client.getRoom(roomId)?.currentState.getStateEvents(WIDGET_STATE).map((e) => e.getContent()).find((c) => typeof c['url'] === 'string'));
    console.log(`  the room's widget state (not encrypted: the link and a fixed name): "${String(widget['name'])}" ${String(widget['url'])}`);
    const yes = await gp.say(roomId, 'Yes, I will join from the practice.', invitation.getId());
    console.log('  Dr. Jensen replies to the invitation: "Yes, I will join from the practice."');
    console.log(quoted(String((await counsellor.waitForNoticeAbout(yes)).getContent()['body'])));
    const answered = await until('the GP’s participation accepted', async () => {
      const current = await office.fhir.read<Appointment>('Appointment', booked.id);
      return current.participant.find((p) => p.actor?.reference === gpRole)?.status === 'accepted' ? current : undefined;
    });
    const statusOf = (role: string) => answered.participant.find((p) => p.actor?.reference === role)?.status;
    console.log(`  Appointment/${booked.id} as the office reads it back: counsellor ${statusOf(counsellorRole)}, Dr. Jensen ${statusOf(gpRole)}, Mette Holm ${statusOf(nurseRole)} (version ${answered.meta?.versionId})`);

    /** Maren types a command in the case room; the bot's answer, as her client shows it. */
    const command = async (text: string, expected: RegExp): Promise<void> => {
      console.log(`  Maren Voss: ${text}`);
      const answer = String((await counsellor.waitForNoticeAbout(await counsellor.say(roomId, text))).getContent()['body']);
      console.log(quoted(answer));
      if (!expected.test(answer)) throw new Error(`the bot's answer to ${text.split(' ')[0]} is not what the story expects`);
    };
    const levelsWhere = (what: string, holds: (levels: Awaited<ReturnType<CaseRoomView['powerLevels']>>) => boolean) =>
      until(what, async () => {
        const levels = await views.nurse.powerLevels(roomId);
        return holds(levels) ? levels : undefined;
      });

    step('Maren Voss mutes Mette Holm for ten minutes; the homeserver refuses the nurse’s message; unmuted, she writes');
    await command(`!mute ${nurse.userId} 10m`, /muted until/);
    const muted = await levelsWhere('the nurse muted', (levels) => (levels.users[nurse.userId] ?? 0) < levels.events_default);
    console.log(`  power levels on the homeserver: Mette Holm ${muted.users[nurse.userId]}, needed to write ${muted.events_default}`);
    const refused = await views.nurse.trySay(roomId, 'Can I still write here?');
    if (!refused) throw new Error('the homeserver took a muted member’s message');
    console.log(`  Mette Holm's client sends a message: refused by the homeserver, ${refused.errcode} (HTTP ${refused.httpStatus}): ${refused.error}`);
    await command(`!unmute ${nurse.userId}`, /can write again/);
    const unmuted = await levelsWhere('the nurse unmuted', (levels) => (levels.users[nurse.userId] ?? 0) >= levels.events_default);
    console.log(`  power levels on the homeserver: Mette Holm ${unmuted.users[nurse.userId] ?? 0}, needed to write ${unmuted.events_default}`);
    const nurseMessage = await nurse.say(roomId, 'Thank you. Visits can start on Monday morning, twice a week.');
    const seenByGp = await gp.waitForEvent('the nurse’s message', (e) => e.getId() === nurseMessage);
    console.log(`  Mette Holm writes; Dr. Jensen's client decrypts: "${String(seenByGp.getContent()['body'])}"`);

    step('Maren Voss closes the case; the room becomes read-only and its transcript is exported as FHIR');
    await command('!close', /closed/);
    const closed = await until('the CareTeam inactive', async () => {
      const current = await office.fhir.read<CareTeam>('CareTeam', careTeamRef.replace('CareTeam/', ''));
      return current.status === 'inactive' ? current : undefined;
    });
    console.log(`  ${careTeamRef} as the office reads it back: status=${closed.status}, period.end=${closed.period?.end}`);
    const readOnly = await levelsWhere('the room read-only', (levels) => levels.events_default === 100);
    console.log(`  power levels on the homeserver: needed to write ${readOnly.events_default}, Maren Voss has ${readOnly.users[counsellor.userId]}`);
    const closedRefusal = await views.counsellor.trySay(roomId, 'One more thing');
    if (!closedRefusal) throw new Error('the homeserver took a message in a closed case');
    console.log(`  Maren Voss's client sends a message: refused, ${closedRefusal.errcode} (HTTP ${closedRefusal.httpStatus})`);
    const transcripts = await until(
      'the transcript documents',
      async () => {
        const search = await office.fhir.search('DocumentReference', { related: careTeamRef, _count: '20' });
        const documents = (search.entry ?? []).map((e) => e.resource as DocumentReference & { id: string }).filter((d) => d.type?.text === TRANSCRIPT_TYPE);
        return documents.length >= 2 ? documents : undefined;
      },
      120_000,
    );
    console.log(`  DocumentReference?related=${careTeamRef} finds ${transcripts.length} "${TRANSCRIPT_TYPE}" documents:`);
    for (const document of transcripts) {
      const attachment = document.content[0]!.attachment;
      const bytes = await office.download(attachment.url!);
      const sha1 = createHash('sha1').update(bytes).digest('base64');
      if (sha1 !== attachment.hash) throw new Error(`DocumentReference/${document.id}: its content does not match its hash`);
      const text = bytes.toString('utf8');
      const what =
        attachment.contentType === 'application/fhir+json'
          ? describeBundle(JSON.parse(text) as Bundle)
          : `${(text.match(/<tr><td>/g) ?? []).length} messages in a table`;
      console.log(`  DocumentReference/${document.id}: ${attachment.contentType}, ${bytes.length} bytes, SHA-1 ${attachment.hash} (matches what was downloaded): ${what}`);
      const names = new Map([[counsellorRole, 'Maren Voss'], [gpRole, 'Dr. Jensen'], [nurseRole, 'Mette Holm']]);
      if (attachment.contentType === 'application/fhir+json') console.log(quoted(transcriptLines(JSON.parse(text) as Bundle, names).join('\n'), '      '));
    }
    console.log('\n✔ The counsellor’s story complete: a case opened from a Matrix chat, run and moderated in its encrypted room, and closed into FHIR.');
  } finally {
    for (const client of clients) client.stop();
  }
}

/** The counselling office's case system: a SMART backend client of the office, as `npm run register-client` makes one. */
async function connectOffice(stage: CaseStoryStage, clientId: string) {
  const scopes = ['system/CareTeam.rs', 'system/Appointment.crus', 'system/DocumentReference.rs', 'system/Binary.r'];
  const keys = await generateClientKeys(`${clientId}-key`);
  const db = createDatabase(stage.databaseUrl, 1);
  try {
    await registerSmartClient(db, { clientId, organization: stage.counsellingOffice, jwks: { keys: [keys.publicJwk] }, scopes, roles: [] });
  } finally {
    await db.end();
  }
  const token = await fetchAccessToken(`${stage.hubBaseUrl}/auth/token`, clientId, keys.privateJwk, scopes.join(' '));
  return {
    fhir: new TypedFhirClient(`${stage.hubBaseUrl}/fhir`, token),
    /** A document's content (a Binary, stored encrypted at rest), as the office downloads it. */
    async download(url: string): Promise<Buffer> {
      const response = await fetch(`${stage.hubBaseUrl}/fhir/${url}`, { headers: { authorization: `Bearer ${token}` } });
      if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}`);
      return Buffer.from(await response.arrayBuffer());
    },
  };
}

function describeBundle(bundle: Bundle): string {
  const count = (type: string) => (bundle.entry ?? []).filter((e) => e.resource?.resourceType === type).length;
  return `a ${bundle.type} Bundle of ${count('Communication')} Communications and ${count('DocumentReference')} documents`;
}

/** The transcript's messages, one line each: who sent it (by their role's name here; no role: CareHub) and the start of what was said. */
function transcriptLines(bundle: Bundle, names: ReadonlyMap<string, string>): string[] {
  return (bundle.entry ?? [])
    .map((e) => e.resource)
    .filter((r): r is Communication => r?.resourceType === 'Communication')
    .map((c) => {
      const text = (c.payload?.[0]?.contentString ?? '').split('\n')[0]!;
      const sender = c.sender?.reference;
      return `${c.sent?.slice(11, 19)} ${sender ? (names.get(sender) ?? sender) : 'CareHub'}: ${text.length > 80 ? `${text.slice(0, 80)}…` : text}`;
    });
}
