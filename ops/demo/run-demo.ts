/**
 * `npm run demo`: the main job, end to end on the real stack.
 *   1. starts the hub (as `npm start` does) on .stack/carehub.yaml;
 *   2. gives two GPs their own Matrix accounts; the county operator seeds Nordby county's
 *      directory with its SMART token;
 *   3. the GP's own Matrix client (its own device and crypto) comes online;
 *   4. the hospital clinic registers as a SMART backend client, gets a token and posts a
 *      referral with fhir-kit-client;
 *   5. the referral appears, decrypted, in the GP's client; the Task's status is printed;
 *   6. the counsellor's story (case-story.ts): a case opened from her Matrix client, run in its
 *      encrypted room with the GP and a home-care nurse, and closed into a FHIR transcript.
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { JWK } from 'jose';
import { createDatabase, loadConfigFile, registerSmartClient } from '@carehub/hub';
import type { DocumentReference, Task } from 'fhir/r4.js';
import { registerSynapseUser } from '../lib/synapse-user-registration.js';
import { fhirBundleOf, GpMatrixClient } from '../lib/gp-matrix-client.js';
import { HubProcess } from '../lib/hub-process.js';
import { fetchAccessToken, generateClientKeys } from '../lib/smart-client-credentials.js';
import { TypedFhirClient } from '../lib/typed-fhir-client.js';
import { readRegistrationSecret, readStackInfo, STACK_DIR } from '../stack-info.js';
import { tellCounsellorStory } from './case-story.js';
import { demoDirectory, demoReferral } from './demo-network.js';
import { quoted, step } from './demo-output.js';

const stack = readStackInfo();
const config = loadConfigFile(join(STACK_DIR, 'carehub.yaml'));
const hubLog = join(STACK_DIR, 'logs', 'hub-demo.log');
const run = randomBytes(3).toString('hex');

step(`Starting the hub (log: ${hubLog})`);
const hub = await HubProcess.start(join(STACK_DIR, 'carehub.yaml'), 'demo', {
  waitForApi: true,
  logTo: (line) => appendFileSync(hubLog, `${line}\n`),
});
let gp: GpMatrixClient | undefined;
try {
  const tokenUrl = `${hub.baseUrl}/auth/token`;
  const operatorKey = JSON.parse(readFileSync(join(dirname(config.matrix.bot.passwordFile), 'operator-client.jwk'), 'utf8')) as JWK;
  const fhir = new TypedFhirClient(`${hub.baseUrl}/fhir`, await fetchAccessToken(tokenUrl, 'carehub-operator', operatorKey, 'system/*.cruds'));
  console.log(`  FHIR API at ${hub.baseUrl}/fhir; the county operator has a token (SMART Backend Services)`);

  step('Giving the GPs their Matrix accounts on the hub homeserver');
  const account = async (name: string) => {
    const password = randomBytes(12).toString('base64url');
    const user = await registerSynapseUser({
      homeserverUrl: stack.homeserverUrl,
      sharedSecret: readRegistrationSecret(stack),
      localpart: `${name}-${run}`,
      password,
    });
    return { ...user, password };
  };
  const jensen = await account('dr.jensen');
  const berg = await account('dr.berg');
  console.log(`  Dr. Jensen: ${jensen.userId} (password ${jensen.password}, for any Matrix client at ${stack.homeserverUrl})`);
  console.log(`  Dr. Berg:   ${berg.userId}`);

  step('Seeding the directory: care counselling, two GP practices, a hospital clinic');
  const directory = await fhir.transaction(demoDirectory({ gpJensen: jensen.userId, gpBerg: berg.userId }));
  const idOf = (name: string) => directory.entry!.find((e) => (e.resource as { name?: unknown }).name === name)!.resource!.id!;
  const jensenRole = directory.entry!.filter((e) => e.resource?.resourceType === 'PractitionerRole')[0]!.resource!.id!;
  const clinic = idOf('Nordby Regional Hospital, Orthopaedics');
  console.log(`  ${directory.entry!.length} resources created`);

  step("Dr. Jensen's own Matrix client comes online (its own device, end-to-end encryption)");
  gp = await GpMatrixClient.start(stack.homeserverUrl, jensen);
  console.log(`  ${jensen.userId} on device ${jensen.deviceId}`);

  step("The hospital clinic's system registers as a SMART backend client and gets its own token");
  const clinicKeys = await generateClientKeys(`clinic-${run}`);
  const db = createDatabase(config.database.url, 1);
  await registerSmartClient(db, {
    clientId: `nordby-hospital-${run}`,
    organization: `Organization/${clinic}`,
    jwks: { keys: [clinicKeys.publicJwk] },
    scopes: ['system/Patient.c', 'system/ServiceRequest.c', 'system/Task.cr', 'system/DocumentReference.crs', 'system/Binary.r'],
    roles: [],
  });
  await db.end();
  const clinicFhir = new TypedFhirClient(
    `${hub.baseUrl}/fhir`,
    await fetchAccessToken(tokenUrl, `nordby-hospital-${run}`, clinicKeys.privateJwk, 'system/Patient.c system/ServiceRequest.c system/Task.cr system/DocumentReference.crs system/Binary.r'),
  );
  console.log(`  client nordby-hospital-${run}: create Patient, ServiceRequest and Task; read Task; exchange documents`);

  step('The hospital clinic refers a patient to Dr. Jensen (fhir-kit-client, transaction Bundle)');
  const posted = await clinicFhir.transaction(demoReferral(`PractitionerRole/${jensenRole}`, `Organization/${clinic}`));
  const taskId = posted.entry!.find((e) => e.resource?.resourceType === 'Task')!.resource!.id!;
  console.log(`  Task/${taskId}: ${posted.entry!.map((e) => e.response!.status).join(', ')}`);

  step("Waiting for the referral in Dr. Jensen's Matrix client");
  const started = Date.now();
  const message = await gp.waitForReferral(taskId, 60_000);
  const raw = (await gp.rawRoomEvents(message.getRoomId()!)).find((e) => e.event_id === message.getId());
  console.log(`  arrived after ${Date.now() - started} ms in room ${message.getRoomId()}`);
  console.log(`  stored on the homeserver as: ${raw?.type} (${String(raw?.content['algorithm'])})`);
  console.log(`  decrypted by the GP's device:\n`);
  console.log(quoted(String(message.getContent()['body'])));
  const bundle = fhirBundleOf(message.getContent());
  console.log(`    │ (carried inline, encrypted with the text: a FHIR ${bundle?.resourceType} of ${bundle?.entry?.map((e) => e.resource.resourceType).join(', ')})`);

  step('The Task, as the clinic reads it back');
  const deadline = Date.now() + 30_000;
  let task = await clinicFhir.read<Task>('Task', taskId);
  while (task.businessStatus?.coding?.[0]?.code !== 'delivered' && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    task = await clinicFhir.read<Task>('Task', taskId);
  }
  console.log(`  Task/${taskId} status=${task.status} businessStatus=${task.businessStatus?.text ?? '(not yet)'} version=${task.meta?.versionId}`);
  if (task.businessStatus?.coding?.[0]?.code !== 'delivered') throw new Error('the Task did not record the delivery');

  const taskStatus = async (wanted: Task['status']) => {
    const until = Date.now() + 30_000;
    let current = await clinicFhir.read<Task>('Task', taskId);
    while (current.status !== wanted && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 200));
      current = await clinicFhir.read<Task>('Task', taskId);
    }
    if (current.status !== wanted) throw new Error(`the Task did not become ${wanted}`);
    return current;
  };

  step('Dr. Jensen opens the referral (a read receipt) and accepts it with a ✅ reaction');
  await gp.markRead(message);
  console.log(`  Task/${taskId} status=${(await taskStatus('received')).status}`);
  await gp.react(message, '✅');
  const confirmation = await gp.waitForNoticeInThread(message, '✅');
  const accepted = await taskStatus('accepted');
  console.log(`  the bot answers in the room: ${String(confirmation.getContent()['body'])}`);
  console.log(`  Task/${taskId} status=${accepted.status} businessStatus=${accepted.businessStatus?.text} (by ${accepted.note?.at(-1)?.authorReference?.reference})`);

  step('The clinic sends the discharge letter (a DocumentReference with the letter inline)');
  const letterText = 'Discharge letter\nOle Nielsen, born 1948-03-14\nTotal hip replacement (right), uncomplicated. Wound check in 7 days.\n';
  const letter = await clinicFhir.create<DocumentReference>({
    resourceType: 'DocumentReference',
    status: 'current',
    description: 'Discharge letter',
    content: [{ attachment: { contentType: 'text/plain', title: 'Discharge letter.txt', data: Buffer.from(letterText).toString('base64') } }],
    context: { related: [{ reference: `Task/${taskId}` }] },
  });
  console.log(`  DocumentReference/${letter.id}: stored OpenPGP-encrypted as ${letter.content[0]!.attachment.url} (${letter.content[0]!.attachment.size} bytes, SHA-1 ${letter.content[0]!.attachment.hash})`);
  const letterEvent = await gp.waitForEvent('the letter', (e) => e.getContent()['org.carehub.document']?.documentReference === `DocumentReference/${letter.id}`);
  const letterBytes = await gp.downloadFile(letterEvent.getContent());
  console.log(`  in Dr. Jensen's client: "${String(letterEvent.getContent()['body'])}", an encrypted attachment; decrypted, it reads:`);
  console.log(quoted(letterBytes.toString().trimEnd()));

  step('Dr. Jensen drops her care plan into the room; the clinic finds it with DocumentReference?related=Task/…');
  const carePlan = Buffer.from('Care plan: home nurse visits twice weekly for 3 weeks; physiotherapy at home.\n');
  await gp.sendFile(message, carePlan, 'care-plan.txt', 'text/plain');
  let found: DocumentReference | undefined;
  for (const until = Date.now() + 30_000; !found && Date.now() < until; ) {
    found = (await clinicFhir.search('DocumentReference', { related: `Task/${taskId}`, _count: '10' })).entry?.map((e) => e.resource as DocumentReference).find((d) => d.description === 'care-plan.txt');
    if (!found) await new Promise((r) => setTimeout(r, 300));
  }
  if (!found) throw new Error('the care plan did not reach the clinic');
  console.log(`  DocumentReference/${found.id} by ${found.author?.[0]?.reference}, content ${found.content[0]!.attachment.url}`);

  step('After the visit, Dr. Jensen writes "done: home visit made, care plan attached to the record"');
  await gp.say(message, 'done: home visit made, care plan attached to the record');
  const completed = await taskStatus('completed');
  console.log(`  Task/${taskId} status=${completed.status} note="${completed.output?.find((o) => o.type.text === 'Completion note')?.valueString}" outputs=${completed.output?.length} version=${completed.meta?.versionId}`);
  console.log('\n✔ Demo complete: a referral posted as FHIR was decrypted in the GP’s own Matrix client, and the GP’s answers and documents came back as FHIR.');

  await tellCounsellorStory({
    hubBaseUrl: hub.baseUrl!,
    homeserverUrl: stack.homeserverUrl,
    databaseUrl: config.database.url,
    botUserId: config.matrix.bot.userId,
    operator: fhir,
    organizationsOfThisRun: directory.entry!.filter((e) => e.resource?.resourceType === 'Organization').map((e) => e.resource!.id!),
    counsellingOffice: `Organization/${idOf('Nordby Municipality Care Counselling')}`,
    gp,
    gpRole: `PractitionerRole/${jensenRole}`,
    run,
    newAccount: account,
  });
} finally {
  gp?.stop();
  await hub.stop();
}
process.exit(0);
