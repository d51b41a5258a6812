import { mayHaveMoreRows, outboxJobsByTopic } from './outbox-batch.js';

test("a batch becomes one bulk add per topic, each job carrying its row's id and never its payload (Redis holds no patient data)", () => {
  const jobs = outboxJobsByTopic([
    { id: '7', topic: 'referral.deliver', payload: { taskId: 't1' } },
    { id: '8', topic: 'subscription.notify', payload: { subscriptionId: 's1', resourceType: 'Task', resourceId: 't1', versionId: '2' } },
    { id: '9', topic: 'referral.deliver', payload: { taskId: 't2' } },
    { id: '10', topic: 'room.notice', payload: { taskId: 't1', notice: { text: 'x' } } },
  ]);
  expect([...jobs.keys()]).toEqual(['referral.deliver', 'subscription.notify', 'room.notice']);
  expect(jobs.get('referral.deliver')).toEqual([
    { name: 'referral.deliver', data: { outboxId: '7' }, opts: { jobId: 'outbox-7' } },
    { name: 'referral.deliver', data: { outboxId: '9' }, opts: { jobId: 'outbox-9' } },
  ]);
  expect(jobs.get('subscription.notify')).toEqual([
    { name: 'subscription.notify', data: { outboxId: '8' }, opts: { jobId: 'outbox-8' } },
  ]);
  expect(jobs.get('room.notice')).toEqual([{ name: 'room.notice', data: { outboxId: '10' }, opts: { jobId: 'outbox-10' } }]);
});

test('a row published again gets the same job id, so BullMQ keeps one job for it', () => {
  const row = { id: '42', topic: 'document.deliver' as const, payload: { taskId: 't1', documentReferenceId: 'd1' } };
  const first = outboxJobsByTopic([row]).get('document.deliver')![0]!;
  const again = outboxJobsByTopic([row]).get('document.deliver')![0]!;
  expect(again.opts.jobId).toBe(first.opts.jobId);
  // BullMQ job ids may not be all digits.
  expect(first.opts.jobId).not.toMatch(/^\d+$/);
});

test('the row id, not a payload field of the same name, names the row', () => {
  const [job] = outboxJobsByTopic([{ id: '5', topic: 'referral.edit', payload: { taskId: 't1', outboxId: 'forged' } }]).get('referral.edit')!;
  expect(job!.data).toEqual({ outboxId: '5' });
});

test('an empty batch is no jobs', () => {
  expect(outboxJobsByTopic([]).size).toBe(0);
});

test('the relay reads another batch only after a full one', () => {
  expect(mayHaveMoreRows(100, 100)).toBe(true);
  expect(mayHaveMoreRows(99, 100)).toBe(false);
  expect(mayHaveMoreRows(0, 100)).toBe(false);
});
