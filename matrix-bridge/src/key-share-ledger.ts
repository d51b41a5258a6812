import type { Logger } from 'pino';

/** A room key the bot's crypto refused a device (`m.room_key.withheld`), and why. */
export interface WithheldKey {
  userId: string;
  deviceId: string;
  /** `m.unverified`, `m.blacklisted`, `m.unauthorised`, `m.unavailable` or `m.no_olm`. */
  code: string;
}

/** How many Megolm sessions and room sends the ledger remembers (oldest forgotten first). */
const REMEMBERED = 10_000;

const WITHHELD_PATH = /\/sendToDevice\/m\.room_key\.withheld\/[^/?]+/;
const OLM_PATH = /\/sendToDevice\/m\.room\.encrypted\/[^/?]+/;
const ROOM_SEND_PATH = /\/rooms\/([^/]+)\/send\/m\.room\.encrypted\/([^/?]+)/;

function remember<K, V>(map: Map<K, V>, key: K, value: V): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > REMEMBERED) map.delete(map.keys().next().value as K);
}

/**
 * What the bot's Rust crypto did with each room key, read from the bot's own outgoing requests:
 * matrix-js-sdk tells nobody which devices a Megolm session was withheld from, but the to-device
 * `m.room_key.withheld` it sends names room, session, device and code, and each encrypted room
 * send names its session. Only ids and codes are kept, never content.
 */
export class KeyShareLedger {
  private readonly sessionByTxn = new Map<string, string>();
  private readonly withheldBySession = new Map<string, WithheldKey[]>();
  /** Every Olm-encrypted to-device message so far (room keys among them), in order: "user\ndevice". */
  private readonly olmSent: string[] = [];

  constructor(private readonly logger: Logger) {}

  /** Called with every request the bot makes, before it leaves. */
  readonly observe = (url: string, init: RequestInit | undefined): void => {
    if (init?.method !== 'PUT' || typeof init.body !== 'string') return;
    if (WITHHELD_PATH.test(url)) this.onWithheld(init.body);
    if (OLM_PATH.test(url)) this.onOlm(init.body);
    const send = ROOM_SEND_PATH.exec(url);
    if (send) this.onRoomSend(decodeURIComponent(send[1]!), decodeURIComponent(send[2]!), init.body);
  };

  /** The Megolm session a room send (by its transaction id) was encrypted with, if it went through this process. */
  sessionOf(roomId: string, txnId: string): string | undefined {
    return this.sessionByTxn.get(`${roomId}\n${txnId}`);
  }

  /** Who the session was withheld from so far (it is withheld once per device, at its first use). */
  withheldIn(roomId: string, sessionId: string): readonly WithheldKey[] {
    return this.withheldBySession.get(`${roomId}\n${sessionId}`) ?? [];
  }

  /** A mark to pass to `olmRecipientsSince`. */
  olmMark(): number {
    return this.olmSent.length;
  }

  /**
   * The devices that were sent an Olm message since `mark`. Around a send under a fresh Megolm
   * session that nothing else runs beside, these are the devices that got its room key.
   */
  olmRecipientsSince(mark: number): Set<string> {
    return new Set(this.olmSent.slice(mark));
  }

  private onOlm(body: string): void {
    const { messages } = JSON.parse(body) as { messages?: Record<string, Record<string, unknown>> };
    for (const [userId, devices] of Object.entries(messages ?? {})) {
      for (const deviceId of Object.keys(devices)) this.olmSent.push(`${userId}\n${deviceId}`);
    }
    if (this.olmSent.length > REMEMBERED * 10) this.olmSent.splice(0, REMEMBERED);
  }

  private onRoomSend(roomId: string, txnId: string, body: string): void {
    const sessionId = (JSON.parse(body) as { session_id?: unknown }).session_id;
    if (typeof sessionId === 'string') remember(this.sessionByTxn, `${roomId}\n${txnId}`, sessionId);
  }

  private onWithheld(body: string): void {
    const { messages } = JSON.parse(body) as { messages?: Record<string, Record<string, { room_id?: string; session_id?: string; code?: string }>> };
    for (const [userId, devices] of Object.entries(messages ?? {})) {
      for (const [deviceId, content] of Object.entries(devices)) {
        if (!content.code) continue;
        this.logger.info({ userId, deviceId, code: content.code, roomId: content.room_id }, 'room key withheld');
        if (!content.room_id || !content.session_id) continue;
        const key = `${content.room_id}\n${content.session_id}`;
        remember(this.withheldBySession, key, [...this.withheldIn(content.room_id, content.session_id), { userId, deviceId, code: content.code }]);
      }
    }
  }
}
