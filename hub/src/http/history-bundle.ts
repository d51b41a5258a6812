import type { Bundle } from 'fhir/r4.js';
import type { HistoryEntry } from '../store/resource-store.js';

/**
 * A history Bundle (FHIR R4 http.html#history): newest first, deletions without a resource.
 * `id` undefined: the history of the whole type.
 */
export function historyBundle(publicBaseUrl: string, type: string, id: string | undefined, entries: HistoryEntry[]): Bundle {
  return {
    resourceType: 'Bundle',
    type: 'history',
    link: [{ relation: 'self', url: `${publicBaseUrl}/fhir/${type}${id ? `/${id}` : ''}/_history` }],
    entry: entries.map((entry) => ({
      fullUrl: `${publicBaseUrl}/fhir/${type}/${entry.resource.id}`,
      ...(entry.deleted ? {} : { resource: entry.resource }),
      request: {
        method: entry.deleted ? 'DELETE' : entry.versionId === '1' ? 'POST' : 'PUT',
        url: entry.versionId === '1' && !entry.deleted ? type : `${type}/${entry.resource.id}`,
      },
      response: {
        status: entry.deleted ? '204' : entry.versionId === '1' ? '201' : '200',
        etag: `W/"${entry.versionId}"`,
        lastModified: entry.lastUpdated,
      },
    })),
  };
}
