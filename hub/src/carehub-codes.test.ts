import type { CodeSystem, Coding } from 'fhir/r4.js';
import { CAREHUB_CANONICAL, carehubTerminology } from '@carehub/fhir-profiles';
import { BREAK_GLASS_SUBTYPE } from './access/request-access.js';
import { CASE_ROOM_AUDIT_TYPE, CASE_STEPS, caseStepCoding, type CaseStep } from './cases/case-audit.js';
import { CASE_ROLE } from './cases/case-roles.js';
import { OWNER_TAG_SYSTEM } from './auth/ownership.js';
import { DELIVERED, NOT_READABLE_YET, TASK_BUSINESS_STATUS_SYSTEM } from './delivery/task-delivery-status.js';
import { CAREHUB_ENDPOINT_CONNECTION_SYSTEM, MATRIX_CONNECTION_CODE } from './routing/matrix-address.js';
import { FROM_MATRIX } from './workflow/receive-room-document.js';
import { BUSINESS_STATUS } from './workflow/task-status-change.js';

// Every code the hub writes under one of CareHub's own systems is defined, with the display the
// hub writes, in that system's CodeSystem (fhir-profiles/terminology): the documentation an
// integrator reads cannot drift from what the hub does.
const codeSystems = new Map(
  carehubTerminology()
    .filter((resource): resource is CodeSystem => resource.resourceType === 'CodeSystem')
    .map((codeSystem) => [codeSystem.url, codeSystem]),
);

const emitted: Array<{ where: string; coding: Coding }> = [
  ...[DELIVERED, NOT_READABLE_YET].map((concept) => ({ where: 'task-delivery-status.ts', coding: concept.coding![0]! })),
  ...Object.values(BUSINESS_STATUS).map((business) => ({ where: 'task-status-change.ts', coding: { system: TASK_BUSINESS_STATUS_SYSTEM, ...business } })),
  { where: 'receive-room-document.ts', coding: FROM_MATRIX },
  { where: 'request-access.ts', coding: BREAK_GLASS_SUBTYPE },
  { where: 'matrix-address.ts', coding: { system: CAREHUB_ENDPOINT_CONNECTION_SYSTEM, code: MATRIX_CONNECTION_CODE } },
  ...Object.values(CASE_ROLE).map((coding) => ({ where: 'case-roles.ts', coding })),
  { where: 'case-audit.ts', coding: CASE_ROOM_AUDIT_TYPE },
  ...(Object.keys(CASE_STEPS) as CaseStep[]).map((step) => ({ where: 'case-audit.ts', coding: caseStepCoding(step) })),
];

test.each(emitted)('$where: $coding.system#$coding.code is in its CodeSystem, with its display', ({ coding }) => {
  expect(coding.system!.startsWith(`${CAREHUB_CANONICAL}/CodeSystem/`)).toBe(true);
  const codeSystem = codeSystems.get(coding.system!);
  expect(codeSystem).toBeDefined();
  const concept = codeSystem!.concept?.find((candidate) => candidate.code === coding.code);
  expect(concept).toBeDefined();
  if (coding.display !== undefined) expect(concept!.display).toBe(coding.display);
});

test('every CareHub CodeSystem that says it is complete lists exactly the codes the hub writes under it; the owner tag lists none', () => {
  for (const codeSystem of codeSystems.values()) {
    if (codeSystem.content !== 'complete' || codeSystem.url?.endsWith('/organization-kind')) continue;
    const written = new Set(emitted.filter(({ coding }) => coding.system === codeSystem.url).map(({ coding }) => coding.code));
    expect([codeSystem.url, [...new Set(codeSystem.concept?.map((concept) => concept.code))].sort()]).toEqual([codeSystem.url, [...written].sort()]);
  }
  expect(codeSystems.get(OWNER_TAG_SYSTEM)?.content).toBe('not-present');
});
