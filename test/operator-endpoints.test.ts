import { startApiHub, type ApiHub } from './support/api-hub.js';

// The operator scrapes metrics and checks health on a listener of its own; integrators, on the
// API's port, find neither.
let api: ApiHub;

beforeAll(async () => {
  api = await startApiHub();
});

afterAll(async () => {
  await api.stop();
});

describe("the operator's endpoints", () => {
  test.each(['/metrics', '/healthz', '/readyz'])("%s is not on the integrators' port (404)", async (path) => {
    const response = await fetch(`${api.baseUrl}${path}`);
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ resourceType: 'OperationOutcome' });
  });

  test('the operator scrapes Prometheus metrics on its own listener', async () => {
    await fetch(`${api.baseUrl}/fhir/metadata`);
    const response = await fetch(`${api.hub.operatorUrl}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await response.text()).toMatch(/carehub_http_requests_total\{method="GET",status="200"\} [1-9]/);
  });

  test('liveness answers from the process alone; readiness says the database answers', async () => {
    const live = await fetch(`${api.hub.operatorUrl}/healthz`);
    expect(live.status).toBe(200);
    expect(await live.json()).toMatchObject({ status: 'ok' });
    const ready = await fetch(`${api.hub.operatorUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });
  });

  test("the operator's listener serves nothing of the FHIR API", async () => {
    expect((await fetch(`${api.hub.operatorUrl}/fhir/metadata`)).status).toBe(404);
  });
});
