import { humanNameText } from './human-name.js';

test("a name reads as its text, else prefix, given names and family; the official one first", () => {
  expect(humanNameText([{ prefix: ['Dr.'], given: ['Karen', 'M.'], family: 'Jensen' }])).toBe('Dr. Karen M. Jensen');
  expect(humanNameText([{ use: 'nickname', text: 'Kaja' }, { use: 'official', family: 'Jensen', given: ['Karen'] }])).toBe('Karen Jensen');
  expect(humanNameText([{ text: 'Ole Nielsen', family: 'ignored' }])).toBe('Ole Nielsen');
  expect(humanNameText([{}])).toBeUndefined();
  expect(humanNameText(undefined)).toBeUndefined();
});
