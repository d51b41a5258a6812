import { Client } from 'fhir-kit-client';
import type { Bundle, CapabilityStatement, FhirResource, OperationOutcome } from 'fhir/r4.js';

/** Extra request headers, e.g. If-Match or Prefer. */
type Headers = Record<string, string>;

/**
 * fhir-kit-client, as an integrator's system uses it, with @types/fhir R4 types on the calls
 * the demo and the tests make (fhir-kit-client types resources loosely).
 */
export class TypedFhirClient {
  readonly raw: Client;

  constructor(baseUrl: string, bearerToken?: string) {
    this.raw = new Client({ baseUrl, ...(bearerToken ? { bearerToken } : {}) });
  }

  async transaction(bundle: Bundle): Promise<Bundle> {
    return (await this.raw.transaction({ body: bundle as never })) as unknown as Bundle;
  }

  async create<T extends FhirResource>(resource: T): Promise<T & { id: string }> {
    return (await this.raw.create({ resourceType: resource.resourceType, body: resource as never })) as unknown as T & { id: string };
  }

  async read<T extends FhirResource>(resourceType: T['resourceType'], id: string): Promise<T> {
    return (await this.raw.read({ resourceType, id })) as unknown as T;
  }

  async vread<T extends FhirResource>(resourceType: T['resourceType'], id: string, version: string): Promise<T> {
    return (await this.raw.vread({ resourceType, id, version })) as unknown as T;
  }

  async update<T extends FhirResource>(resource: T & { id: string }, headers: Headers = {}): Promise<T> {
    return (await this.raw.update({ resourceType: resource.resourceType, id: resource.id, body: resource as never, options: { headers } })) as unknown as T;
  }

  async patch<T extends FhirResource>(resourceType: T['resourceType'], id: string, jsonPatch: unknown[], headers: Headers = {}): Promise<T> {
    return (await this.raw.patch({ resourceType, id, jsonPatch: jsonPatch as never, options: { headers } })) as unknown as T;
  }

  async delete(resourceType: FhirResource['resourceType'], id: string): Promise<OperationOutcome> {
    return (await this.raw.delete({ resourceType, id })) as unknown as OperationOutcome;
  }

  async history(resourceType: FhirResource['resourceType'], id: string): Promise<Bundle> {
    return (await this.raw.history({ resourceType, id })) as unknown as Bundle;
  }

  async search(resourceType: FhirResource['resourceType'], searchParams: Record<string, string | string[]>, headers: Headers = {}): Promise<Bundle> {
    return (await this.raw.search({ resourceType, searchParams, options: { headers } })) as unknown as Bundle;
  }

  /** The next page of a searchset, or undefined on the last page. */
  async nextPage(bundle: Bundle): Promise<Bundle | undefined> {
    const next = this.raw.nextPage({ bundle: bundle as never });
    return next ? ((await next) as unknown as Bundle) : undefined;
  }

  async capabilityStatement(): Promise<CapabilityStatement> {
    return (await this.raw.capabilityStatement()) as unknown as CapabilityStatement;
  }
}
