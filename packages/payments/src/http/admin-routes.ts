// Operator routes: webhook endpoints (create, list, delete, rotate a secret), the delivery
// dead-letter queue (list, attempt log, replay), the PSP retry queue, and the OpenAPI document.
import type { FastifyInstance } from 'fastify';
import { listJobs } from '../job-queue.js';
import type { Services } from './app.js';
import type { RouteTable } from './openapi.js';
import * as schemas from './schemas.js';

const ok = (body: unknown, statusCode = 200) => ({ statusCode, body, replayed: false });

export function adminRoutes(app: FastifyInstance, services: Services, table: RouteTable): void {
  const { endpoints } = services;
  table.add(
    app,
    {
      method: 'POST',
      url: '/v1/webhook-endpoints',
      summary: 'Add a webhook endpoint',
      schema: { body: schemas.createEndpointBody },
    },
    async (request) => {
      const body = request.body as { url: string; event_types?: string[]; secret?: string };
      const endpoint = endpoints.create({
        url: body.url,
        eventTypes: body.event_types ?? [],
        ...(body.secret === undefined ? {} : { secret: body.secret }),
      });
      return ok(
        {
          id: endpoint.id,
          url: endpoint.url,
          event_types: endpoint.eventTypes,
          secrets: endpoint.secrets,
        },
        201,
      );
    },
  );
  table.add(
    app,
    { method: 'GET', url: '/v1/webhook-endpoints', summary: 'List webhook endpoints', schema: {} },
    async () =>
      ok({
        endpoints: endpoints
          .list()
          .map((e) => ({ id: e.id, url: e.url, event_types: e.eventTypes })),
      }),
  );
  table.add(
    app,
    {
      method: 'DELETE',
      url: '/v1/webhook-endpoints/:id',
      summary: 'Remove a webhook endpoint',
      schema: { params: schemas.endpointParams },
    },
    async (request) => {
      endpoints.delete((request.params as { id: string }).id);
      return ok({ deleted: true });
    },
  );
  table.add(
    app,
    {
      method: 'POST',
      url: '/v1/webhook-endpoints/:id/rotate-secret',
      summary: 'Add a new signing secret; the previous one stays live',
      schema: { params: schemas.endpointParams },
    },
    async (request) => {
      const endpoint = endpoints.rotateSecret((request.params as { id: string }).id);
      return ok({ id: endpoint.id, secrets: endpoint.secrets });
    },
  );
  deliveryRoutes(app, services, table);
}

function deliveryRoutes(app: FastifyInstance, services: Services, table: RouteTable): void {
  const { endpoints } = services;
  table.add(
    app,
    {
      method: 'GET',
      url: '/v1/webhook-deliveries',
      summary: 'List deliveries by state (dead: the dead-letter queue)',
      schema: { querystring: schemas.stateQuery(['pending', 'delivered', 'dead']) },
    },
    async (request) => {
      const { state } = request.query as { state?: 'pending' | 'delivered' | 'dead' };
      const deliveries = endpoints.deliveries(state ?? 'dead');
      return ok({
        deliveries: deliveries.map((d) => ({
          id: d.id,
          message_id: d.messageId,
          endpoint_id: d.endpointId,
          attempts: d.attempts,
          state: d.state,
          last_status: d.lastStatus,
        })),
      });
    },
  );
  table.add(
    app,
    {
      method: 'GET',
      url: '/v1/webhook-deliveries/:id/attempts',
      summary: "A delivery's attempt log",
      schema: { params: schemas.deliveryParams },
    },
    async (request) =>
      ok({ attempts: endpoints.attempts(Number((request.params as { id: string }).id)) }),
  );
  table.add(
    app,
    {
      method: 'POST',
      url: '/v1/webhook-deliveries/:id/replay',
      summary: 'Send a dead delivery again',
      schema: { params: schemas.deliveryParams },
    },
    async (request) => {
      const delivery = endpoints.replay(Number((request.params as { id: string }).id));
      return ok({ id: delivery.id, state: delivery.state });
    },
  );
  table.add(
    app,
    {
      method: 'GET',
      url: '/v1/psp-jobs',
      summary: 'List PSP calls waiting for a retry, done, or dead',
      schema: { querystring: schemas.stateQuery(['queued', 'done', 'dead']) },
    },
    async (request) => {
      const { state } = request.query as { state?: string };
      return ok({ jobs: listJobs(services.service.db, state ?? 'dead') });
    },
  );
  app.get('/openapi.json', async () => table.openapi(services.version));
}
