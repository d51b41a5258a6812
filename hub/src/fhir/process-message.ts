import { randomUUID } from 'node:crypto';
import type { Bundle, BundleEntry, MessageHeader, OperationOutcome, Reference } from 'fhir/r4.js';
import type { Access } from '../access/access-policy.js';
import { inTransaction, type Database } from '../store/database.js';
import type { WriteContext } from '../workflow/write-context.js';
import { processTransactionEntries } from './bundle-processing.js';
import { badRequest, FhirError, issue } from './operation-outcome.js';

export interface MessageResult {
  status: number;
  body: Bundle;
}

/** The message's identity (FHIR R4 messaging.html#reliable): its Bundle.id from its source endpoint. */
function identityOf(bundle: Bundle): { header: MessageHeader; source: string; id: string } {
  if (bundle.type !== 'message') throw badRequest('$process-message takes a Bundle of type "message"', ['Bundle.type']);
  const header = bundle.entry?.[0]?.resource as MessageHeader | undefined;
  if (header?.resourceType !== 'MessageHeader') throw badRequest('the first entry of a message must be its MessageHeader', ['Bundle.entry[0].resource']);
  if (!header.eventCoding && !header.eventUri) throw badRequest('MessageHeader.event[x] is required', ['MessageHeader.event[x]']);
  if (!header.source?.endpoint) throw badRequest('MessageHeader.source.endpoint is required (it identifies the sender)', ['MessageHeader.source.endpoint']);
  if (!bundle.id) throw badRequest('Bundle.id is required: it identifies the message for duplicate detection', ['Bundle.id']);
  return { header, source: header.source.endpoint, id: bundle.id };
}

/**
 * The response message (FHIR R4 messaging.html#response): a MessageHeader whose `response`
 * names the request's Bundle.id and says ok, transient-error or fatal-error, with the
 * OperationOutcome as `response.details` for errors and the stored resources as `focus` for ok.
 */
function responseMessage(request: MessageHeader, requestId: string, code: 'ok' | 'transient-error' | 'fatal-error', focus: Reference[], outcome?: OperationOutcome): Bundle {
  const outcomeUrl = `urn:uuid:${randomUUID()}`;
  const header: MessageHeader = {
    resourceType: 'MessageHeader',
    id: randomUUID(),
    ...(request.eventCoding ? { eventCoding: request.eventCoding } : { eventUri: request.eventUri! }),
    source: { name: 'CareHub', endpoint: 'urn:carehub:hub' },
    destination: [{ endpoint: request.source.endpoint }],
    response: { identifier: requestId, code, ...(outcome ? { details: { reference: outcomeUrl } } : {}) },
    ...(focus.length > 0 ? { focus } : {}),
  };
  return {
    resourceType: 'Bundle',
    id: randomUUID(),
    type: 'message',
    timestamp: new Date().toISOString(),
    entry: [{ fullUrl: `urn:uuid:${header.id}`, resource: header }, ...(outcome ? [{ fullUrl: outcomeUrl, resource: outcome }] : [])],
  };
}

/** The database is unreachable or went away mid-way: worth sending again later. */
function isTransient(error: unknown): boolean {
  const code = (error as { code?: string }).code ?? '';
  return code.startsWith('08') || code === '57P01' || code === 'ECONNREFUSED' || code === 'ECONNRESET';
}

/** The message's content as a transaction: every resource created, urn:uuid references resolved. */
function asTransactionEntries(entries: BundleEntry[]): BundleEntry[] {
  return entries.map((entry) => ({
    ...(entry.fullUrl ? { fullUrl: entry.fullUrl } : {}),
    resource: entry.resource!,
    request: { method: 'POST' as const, url: entry.resource?.resourceType ?? '' },
  }));
}

/**
 * FHIR messaging for referrals: `POST [base]/$process-message` (FHIR R4
 * operation-messageheader-process-message.html), synchronous. The resources the message carries
 * are stored as one transaction (so a referral's Task routes and is delivered like any other),
 * together with the record that the message was processed. Answers:
 * - ok: 200 and a response message naming what was stored;
 * - a message already processed: the original response again, nothing stored (duplicates);
 * - invalid content, an unknown recipient: 4xx, fatal-error ("do not resend unchanged");
 * - the hub's own trouble (database down): 5xx, transient-error ("may resend").
 * Errors carry the response message too, with the OperationOutcome as response.details.
 */
export async function processMessage(context: WriteContext, db: Database, bundle: Bundle, writer: Access): Promise<MessageResult> {
  const { header, source, id } = identityOf(bundle);
  // Duplicates are per sending client: another client naming the same source and Bundle.id
  // sends its own message, and can never make the hub drop someone else's.
  const clientId = writer?.clientId ?? '';
  const content = (bundle.entry ?? []).slice(1);
  try {
    return await inTransaction(db, async (client) => {
      // The key is taken first: a second copy arriving meanwhile waits here, then finds it.
      const claimed = await client.query(
        `INSERT INTO processed_messages (client_id, source_endpoint, message_id, response) VALUES ($3, $1, $2, 'null') ON CONFLICT DO NOTHING`,
        [source, id, clientId],
      );
      if (claimed.rowCount === 0) {
        const { rows } = await client.query<{ response: Bundle }>('SELECT response FROM processed_messages WHERE source_endpoint = $1 AND message_id = $2 AND client_id = $3', [source, id, clientId]);
        return { status: 200, body: rows[0]!.response };
      }
      const results = await processTransactionEntries(context, client, asTransactionEntries(content), writer);
      const focus = results.filter((r) => r.resource).map((r) => ({ reference: `${r.resource!.resourceType}/${r.resource!.id}` }));
      const response = responseMessage(header, id, 'ok', focus);
      await client.query('UPDATE processed_messages SET response = $3 WHERE source_endpoint = $1 AND message_id = $2 AND client_id = $4', [source, id, response, clientId]);
      return { status: 200, body: response };
    });
  } catch (error) {
    if (!(error instanceof FhirError) && !isTransient(error)) throw error;
    const fhirError = error instanceof FhirError ? error : new FhirError(503, [issue('transient', 'the hub could not process the message now; it may be sent again')]);
    const code = fhirError.status >= 500 ? 'transient-error' : 'fatal-error';
    return { status: fhirError.status, body: responseMessage(header, id, code, [], fhirError.outcome) };
  }
}
