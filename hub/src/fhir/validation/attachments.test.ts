import type { Attachment, Resource } from 'fhir/r4.js';
import { loadFhirDefinitions } from '../resource-validator.js';
import { attachmentIssues } from './attachments.js';

beforeAll(() => loadFhirDefinitions());

// "help i'm a bug": 14 bytes.
const data = 'aGVscCBpJ20gYSBidWc=';
const sha1 = 'A5JzLb8YWDe4J9CPz6U0BbTlqkU=';

const media = (content: Attachment): Resource => ({ resourceType: 'Media', status: 'completed', content }) as Resource;

test('an attachment whose stated size is not the size of its data is refused at the attachment', () => {
  const issues = attachmentIssues(media({ contentType: 'text/plain', data, size: 100 }));
  expect(issues.map((i) => [i.severity, i.expression, i.diagnostics])).toEqual([
    ['error', ['Media.content'], 'Stated Attachment Size 100 does not match actual attachment size 14'],
  ]);
  expect(attachmentIssues(media({ contentType: 'text/plain', data, size: 14, hash: sha1 }))).toEqual([]);
});

test('an attachment whose hash is not the SHA-1 of its data is refused', () => {
  const issues = attachmentIssues(media({ contentType: 'text/plain', data, hash: 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=' }));
  expect(issues.map((i) => i.expression)).toEqual([['Media.content']]);
  expect(issues[0]!.diagnostics).toContain(`actual attachment hash ${sha1}`);
});

test('size and hash without data (a url) are not checked; attachments in a choice are named by type', () => {
  expect(attachmentIssues(media({ url: 'https://files.example.org/x.pdf', size: 100, hash: 'AAAA' }))).toEqual([]);
  const patient = { resourceType: 'Patient', extension: [{ url: 'https://carehub.example/photo-note', valueAttachment: { contentType: 'text/plain', data, size: 15 } }] } as Resource;
  expect(attachmentIssues(patient).map((i) => i.expression)).toEqual([['Patient.extension[0].value.ofType(Attachment)']]);
});
