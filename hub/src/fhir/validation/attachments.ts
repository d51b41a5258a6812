import { createHash } from 'node:crypto';
import type { Attachment, OperationOutcomeIssue, Resource } from 'fhir/r4.js';
import { issue } from '../operation-outcome.js';
import { typedCheckIssues, type TypedCheck } from './typed-walk.js';

/** The number of bytes base64 text stands for, without decoding it (RFC 4648 §4). */
function decodedLength(base64: string): number {
  const text = base64.replace(/\s/g, '');
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  return Math.floor((text.length * 3) / 4) - padding;
}

/**
 * An Attachment that carries its `data` states the data's `size` in bytes and its `hash`, the
 * base64 SHA-1 of the data (FHIR R4 datatypes.html#Attachment); HL7's validator checks both
 * against the data. The hash needs the data decoded: the hub's body limits bound it.
 * Runs on a resource the StructureDefinition validator accepted: it walks the resource by type.
 */
export const attachmentCheck: TypedCheck = (_resource, issues, paths) => ({
  onEnterObject: (_path, value) => {
    if (value.type !== 'Attachment') return;
    const { data, size, hash } = value.value as Attachment;
    if (typeof data !== 'string') return;
    const path = paths.hl7(value.path);
    const actualSize = decodedLength(data);
    if (typeof size === 'number' && size !== actualSize) {
      issues.push(issue('value', `Stated Attachment Size ${size} does not match actual attachment size ${actualSize}`, [path]));
    }
    if (typeof hash === 'string') {
      const actualHash = createHash('sha1').update(Buffer.from(data, 'base64')).digest('base64');
      if (hash !== actualHash) issues.push(issue('value', `Stated Attachment Hash ${hash} does not match actual attachment hash ${actualHash} (base64 SHA-1 of the data)`, [path]));
    }
  },
  visitProperty: () => undefined,
});

/** The attachment issues of one resource, on a walk of their own. */
export function attachmentIssues(resource: Resource): OperationOutcomeIssue[] {
  return typedCheckIssues(resource, attachmentCheck);
}
