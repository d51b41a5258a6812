import { createServer, type Server } from 'node:http';

export interface ReceivedNotification {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * An integrator's rest-hook endpoint: a real HTTP server on a free port that records what it
 * is sent, and can be told to fail for a while (to show the hub retries).
 */
export class SubscriberEndpoint {
  readonly received: ReceivedNotification[] = [];
  failNext = 0;
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<SubscriberEndpoint> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const endpoint = new SubscriberEndpoint(server, `http://127.0.0.1:${(server.address() as { port: number }).port}/fhir-hook`);
    server.on('request', (request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        if (endpoint.failNext > 0) {
          endpoint.failNext--;
          response.writeHead(503).end();
          return;
        }
        endpoint.received.push({ method: request.method!, path: request.url!, headers: request.headers, body: Buffer.concat(chunks).toString() });
        response.writeHead(200, { 'content-type': 'application/fhir+json' }).end('{}');
      });
    });
    return endpoint;
  }

  /** The resources PUT to the endpoint for one resource, in the order they arrived. */
  resourcesFor<T>(type: string, id: string): T[] {
    return this.received.filter((r) => r.method === 'PUT' && r.path.endsWith(`/${type}/${id}`)).map((r) => JSON.parse(r.body) as T);
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server.close(resolve));
  }
}
