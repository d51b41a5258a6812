import type { Subscription } from 'fhir/r4.js';
import { FhirError } from '../fhir/operation-outcome.js';
import { SubscriptionEndpointPolicy } from './subscription-criteria.js';

const subscription = (endpoint: string): Subscription => ({
  resourceType: 'Subscription',
  status: 'requested',
  reason: 'follow our referrals',
  criteria: 'Task?status=accepted',
  channel: { type: 'rest-hook', endpoint, payload: 'application/fhir+json' },
});

function refusalOf(policy: SubscriptionEndpointPolicy, endpoint: string): FhirError | undefined {
  try {
    policy.assertSupported(subscription(endpoint));
  } catch (error) {
    if (error instanceof FhirError) return error;
    throw error;
  }
  return undefined;
}

test('an integrator may subscribe with an https endpoint on a public host, whatever the operator listed', () => {
  expect(refusalOf(new SubscriptionEndpointPolicy([]), 'https://integrator.example.org/hook')).toBeUndefined();
});

test("an endpoint on the hub's own network is refused unless the operator listed its host", () => {
  const refusal = refusalOf(new SubscriptionEndpointPolicy([]), 'http://10.0.0.5:8080/hook');
  expect(refusal?.status).toBe(422);
  expect(refusal?.issues[0]!.expression).toEqual(['Subscription.channel.endpoint']);
  expect(refusalOf(new SubscriptionEndpointPolicy(['10.0.0.5:8080']), 'http://10.0.0.5:8080/hook')).toBeUndefined();
});

test('two hubs in one process keep their own lists', () => {
  const listing = new SubscriptionEndpointPolicy(['subscriber.internal']);
  const strict = new SubscriptionEndpointPolicy([]);
  expect(refusalOf(listing, 'http://subscriber.internal/hook')).toBeUndefined();
  expect(refusalOf(strict, 'http://subscriber.internal/hook')?.status).toBe(422);
});
