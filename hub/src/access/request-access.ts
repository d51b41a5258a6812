import type { RequestHandler, Response } from 'express';
import type { AuditEvent, Coding } from 'fhir/r4.js';
import { callerOf } from '../auth/require-access-token.js';
import { OPERATOR_ROLE } from '../auth/ownership.js';
import { FhirError, issue } from '../fhir/operation-outcome.js';
import type { Database } from '../store/database.js';
import { createResource } from '../store/resource-store.js';
import type { Access } from './access-policy.js';
import { carehubCodeSystemUrl } from '@carehub/fhir-profiles';

/** The AuditEvent subtype of a break-glass read (fhir-profiles/terminology/audit.codesystem.json). */
export const BREAK_GLASS_SUBTYPE: Coding = { system: carehubCodeSystemUrl('audit'), code: 'break-glass', display: 'Break-glass access to patient data' };

/** The header an operator sends, with its reason, to read patient data in an emergency. */
export const BREAK_GLASS_HEADER = 'x-carehub-break-glass';
const BREAK_GLASS = 'carehubBreakGlass';

/** Who is asking, for the access policy; undefined when authorization is off. */
export function accessOf(res: Response): Access {
  const caller = callerOf(res);
  if (!caller) return undefined;
  const reason = res.locals[BREAK_GLASS] as string | undefined;
  return reason ? { ...caller, breakGlassReason: reason } : caller;
}

/**
 * Break-glass access (docs/access-policy.md): the county runs the hub but is no party to
 * referrals, so an operator reads patient data only by naming a reason in the
 * X-CareHub-Break-Glass header of a read. Each use is recorded as an AuditEvent (purposeOfUse
 * BTG, with the reason) before the read is answered; if it cannot be recorded, nothing is read.
 */
export function breakGlassAccess(db: Database): RequestHandler {
  return (req, res, next) => {
    const reason = req.get(BREAK_GLASS_HEADER)?.trim();
    if (!reason) {
      next();
      return;
    }
    const caller = callerOf(res);
    if (!caller) {
      next();
      return;
    }
    if (!caller.roles.includes(OPERATOR_ROLE)) {
      next(new FhirError(403, [issue('forbidden', `${BREAK_GLASS_HEADER} is for the operator role`)]));
      return;
    }
    if (req.method !== 'GET' || reason.length > 500) {
      next(new FhirError(400, [issue('invalid', `${BREAK_GLASS_HEADER} is allowed on reads only, with a reason of at most 500 characters`)]));
      return;
    }
    const event: AuditEvent = {
      resourceType: 'AuditEvent',
      type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest', display: 'RESTful Operation' },
      subtype: [BREAK_GLASS_SUBTYPE],
      action: 'R',
      recorded: new Date().toISOString(),
      outcome: '0',
      purposeOfEvent: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'BTG', display: 'break the glass' }], text: reason }],
      agent: [{ requestor: true, who: { identifier: { system: 'urn:carehub:client', value: caller.clientId }, display: caller.organization } }],
      source: { observer: { display: 'CareHub FHIR API' } },
      entity: [{ what: { display: `${req.method} ${req.path}` } }],
    };
    createResource(db, event).then(
      () => {
        res.locals[BREAK_GLASS] = reason;
        next();
      },
      (error: unknown) => next(error),
    );
  };
}
