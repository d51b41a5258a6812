import { SendGate } from './send-gate.js';

const tick = () => new Promise((r) => setImmediate(r));

describe('the send gate', () => {
  test('runs ordinary sends side by side, and a send that must run alone only once they are done, with none beside it', async () => {
    const gate = new SendGate();
    const log: string[] = [];
    const releases: Array<() => void> = [];
    const ordinary = (name: string) =>
      gate.ordinarySend(async () => {
        log.push(`${name} start`);
        await new Promise<void>((r) => releases.push(r));
        log.push(`${name} end`);
      });
    const a = ordinary('a');
    const b = ordinary('b');
    await tick();
    const alone = gate.sendAlone(async () => {
      log.push('alone');
    });
    const c = ordinary('c'); // queued behind the waiting lone send
    await tick();
    expect(log).toEqual(['a start', 'b start']);
    releases.splice(0).forEach((r) => r());
    await alone;
    await tick();
    expect(log.slice(0, 5)).toEqual(['a start', 'b start', 'a end', 'b end', 'alone']);
    expect(log[5]).toBe('c start');
    releases.splice(0).forEach((r) => r());
    await Promise.all([a, b, c]);
  });

  test('a failing send frees the gate', async () => {
    const gate = new SendGate();
    await expect(gate.sendAlone(async () => Promise.reject(new Error('homeserver down')))).rejects.toThrow('homeserver down');
    await expect(gate.ordinarySend(async () => 'sent')).resolves.toBe('sent');
  });
});
