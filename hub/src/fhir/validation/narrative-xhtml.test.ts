import type { Resource } from 'fhir/r4.js';
import { narrativeXhtmlIssues } from './narrative-xhtml.js';

const withDiv = (div: string) => ({ resourceType: 'Patient', text: { status: 'generated', div } }) as Resource;
const XHTML = 'xmlns="http://www.w3.org/1999/xhtml"';

test("XML's entities and numeric references pass; a named XHTML entity or a bare & is refused at the div", () => {
  expect(narrativeXhtmlIssues(withDiv(`<div ${XHTML}>CPT&#174; &amp; &lt;b&gt; &#xAE;</div>`))).toEqual([]);
  const reg = narrativeXhtmlIssues(withDiv(`<div ${XHTML}>CPT&reg;</div>`));
  expect(reg.map((i) => i.expression)).toEqual([['Patient.text.div']]);
  expect(reg[0]!.diagnostics).toMatch(/^Invalid entity in the XHTML \('&reg;'\)/);
  expect(narrativeXhtmlIssues(withDiv(`<div ${XHTML}>Smith & Jones</div>`))).toHaveLength(1);
});

test('a narrative outside the XHTML namespace is refused', () => {
  expect(narrativeXhtmlIssues(withDiv('<div>plain</div>')).map((i) => i.expression)).toEqual([['Patient.text.div']]);
});
