import type { BundleEntry, FhirResource } from 'fhir/r4.js';
import {
  assertNoUnresolvedReferences,
  methodOf,
  referenceTargetsOf,
  resolveReferences,
  targetOf,
  transactionRunOrder,
  type Method,
} from './bundle-processing.js';
import { refusalOf } from '../testing/refusal.js';

/** A referral as an integrator posts it: a ServiceRequest and its Task, pointing at each other by urn:uuid. */
const referral: Array<BundleEntry<FhirResource>> = [
  {
    fullUrl: 'urn:uuid:11111111-1111-4111-8111-111111111111',
    resource: { resourceType: 'ServiceRequest', status: 'active', intent: 'order', subject: { reference: 'Patient/p1' } },
    request: { method: 'POST', url: 'ServiceRequest' },
  },
  {
    fullUrl: 'urn:uuid:22222222-2222-4222-8222-222222222222',
    resource: {
      resourceType: 'Task',
      status: 'requested',
      intent: 'order',
      focus: { reference: 'urn:uuid:11111111-1111-4111-8111-111111111111' },
      owner: { reference: 'PractitionerRole/gp-1' },
    },
    request: { method: 'POST', url: 'Task' },
  },
  { fullUrl: 'https://hub.example.org/fhir/Organization/o1', resource: { resourceType: 'Organization', id: 'o1' }, request: { method: 'PUT', url: 'Organization/o1' } },
  { request: { method: 'DELETE', url: 'Task/old' } },
  { fullUrl: 'urn:uuid:33333333-3333-4333-8333-333333333333', request: { method: 'GET', url: 'Patient/p1' } },
];
const methods = referral.map((entry, index) => methodOf(entry, index));
const targets = referral.map((entry, index) => targetOf(entry, index, methods[index]!));

test('each entry names its method and target from its request', () => {
  expect(methods).toEqual(['POST', 'POST', 'PUT', 'DELETE', 'GET']);
  expect(targets).toEqual([
    { type: 'ServiceRequest', id: undefined },
    { type: 'Task', id: undefined },
    { type: 'Organization', id: 'o1' },
    { type: 'Task', id: 'old' },
    { type: 'Patient', id: 'p1' },
  ]);
  // A query string is not part of the target.
  expect(targetOf({ request: { method: 'POST', url: 'Task?identifier=x' } }, 0, 'POST')).toEqual({ type: 'Task', id: undefined });
});

test('an entry the hub cannot run is refused, naming the entry and the element', () => {
  expect(refusalOf(() => methodOf({ request: { method: 'PATCH', url: 'Task/1' } }, 3))).toEqual({
    status: 400,
    diagnostics: 'Bundle.entry[3]: request.method PATCH is not supported (POST, PUT, DELETE, GET)',
    expression: ['Bundle.entry[3].request.method'],
  });
  expect(refusalOf(() => methodOf({}, 0))?.diagnostics).toBe('Bundle.entry[0]: request.method (none) is not supported (POST, PUT, DELETE, GET)');
  expect(refusalOf(() => targetOf({ request: { method: 'POST', url: 'Spaceship' } }, 1, 'POST'))).toEqual({
    status: 400,
    diagnostics: 'Bundle.entry[1]: request.url Spaceship names no supported type',
    expression: ['Bundle.entry[1].request.url'],
  });
  expect(refusalOf(() => targetOf({ request: { method: 'PUT', url: 'Task' } }, 2, 'PUT'))).toEqual({
    status: 400,
    diagnostics: 'Bundle.entry[2]: PUT needs request.url Type/id',
    expression: ['Bundle.entry[2].request.url'],
  });
});

test('a transaction runs DELETEs, then POSTs, then PUTs, then GETs, each in Bundle order (FHIR R4 http.html#trules)', () => {
  const mixed: Method[] = ['GET', 'PUT', 'POST', 'DELETE', 'POST', 'DELETE', 'PUT'];
  expect(transactionRunOrder(mixed)).toEqual([
    { method: 'DELETE', indices: [3, 5] },
    { method: 'POST', indices: [2, 4] },
    { method: 'PUT', indices: [1, 6] },
    { method: 'GET', indices: [0] },
  ]);
  expect(transactionRunOrder([]).every((group) => group.indices.length === 0)).toBe(true);
});

test("a POST's fullUrl stands for its new id, a PUT's for the id in its request.url; DELETE and GET stand for nothing", () => {
  const references = referenceTargetsOf(referral, methods, targets, ['sr-new', 'task-new', undefined, undefined, undefined]);
  expect([...references]).toEqual([
    ['urn:uuid:11111111-1111-4111-8111-111111111111', 'ServiceRequest/sr-new'],
    ['urn:uuid:22222222-2222-4222-8222-222222222222', 'Task/task-new'],
    ['https://hub.example.org/fhir/Organization/o1', 'Organization/o1'],
  ]);
});

test('urn:uuid references are rewritten to the entries they name, wherever they sit', () => {
  const references = referenceTargetsOf(referral, methods, targets, ['sr-new', 'task-new', undefined, undefined, undefined]);
  const communication = {
    resourceType: 'Communication',
    partOf: [{ reference: 'urn:uuid:22222222-2222-4222-8222-222222222222' }],
    basedOn: [{ reference: 'urn:uuid:11111111-1111-4111-8111-111111111111', display: 'urn:uuid:11111111-1111-4111-8111-111111111111' }],
    payload: [{ contentReference: { reference: 'https://hub.example.org/fhir/Organization/o1' } }],
    recipient: [{ reference: 'PractitionerRole/gp-1' }],
  };
  expect(resolveReferences(communication, references)).toEqual({
    resourceType: 'Communication',
    partOf: [{ reference: 'Task/task-new' }],
    // Only `reference` elements are references: a display that looks like one stays as it is.
    basedOn: [{ reference: 'ServiceRequest/sr-new', display: 'urn:uuid:11111111-1111-4111-8111-111111111111' }],
    payload: [{ contentReference: { reference: 'Organization/o1' } }],
    recipient: [{ reference: 'PractitionerRole/gp-1' }],
  });
  // The input is not changed.
  expect(communication.partOf[0]!.reference).toBe('urn:uuid:22222222-2222-4222-8222-222222222222');
});

test('a urn:uuid or urn:oid no entry has as fullUrl refuses the transaction, naming where it is', () => {
  const task = { resourceType: 'Task', focus: { reference: 'ServiceRequest/sr-new' }, input: [{ valueReference: { reference: 'urn:uuid:99999999-9999-4999-8999-999999999999' } }] };
  expect(refusalOf(() => assertNoUnresolvedReferences(task, 'Bundle.entry[1].resource'))).toEqual({
    status: 400,
    diagnostics: 'Bundle.entry[1].resource.input[0].valueReference.reference urn:uuid:99999999-9999-4999-8999-999999999999 names no entry of this Bundle (no entry has it as fullUrl)',
    expression: ['Bundle.entry[1].resource.input[0].valueReference.reference'],
  });
  expect(refusalOf(() => assertNoUnresolvedReferences({ subject: { reference: 'urn:oid:1.2.3' } }, 'r'))?.expression).toEqual(['r.subject.reference']);
  expect(refusalOf(() => assertNoUnresolvedReferences({ subject: { reference: 'Patient/p1' }, note: [{ text: 'urn:uuid:x' }] }, 'r'))).toBeUndefined();
});

test('after resolution the referral has no dangling urn:uuid left', () => {
  const references = referenceTargetsOf(referral, methods, targets, ['sr-new', 'task-new', undefined, undefined, undefined]);
  const task = resolveReferences(referral[1]!.resource, references);
  expect(task).toMatchObject({ focus: { reference: 'ServiceRequest/sr-new' } });
  expect(refusalOf(() => assertNoUnresolvedReferences(task, 'Bundle.entry[1].resource'))).toBeUndefined();
});
