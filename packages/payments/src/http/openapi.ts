// Every route is registered through a RouteTable, which keeps its schema and summary, so the
// OpenAPI document (GET /openapi.json) is generated from the same schemas that validate.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { errorBody } from './schemas.js';

export interface RouteSpec {
  readonly method: 'GET' | 'POST' | 'DELETE';
  readonly url: string;
  readonly summary: string;
  readonly schema: { body?: object; params?: object; querystring?: object };
}

export type RouteHandler = (
  request: FastifyRequest,
) => Promise<{ statusCode: number; body: unknown; replayed: boolean }>;

export class RouteTable {
  readonly #specs: RouteSpec[] = [];

  add(app: FastifyInstance, spec: RouteSpec, handler: RouteHandler): void {
    this.#specs.push(spec);
    app.route({
      method: spec.method,
      url: spec.url,
      schema: spec.schema,
      handler: async (request, reply) => {
        const outcome = await handler(request);
        if (outcome.replayed) void reply.header('idempotent-replayed', 'true');
        return reply.code(outcome.statusCode).send(outcome.body);
      },
    });
  }

  openapi(version: string): object {
    const paths: Record<string, Record<string, object>> = {};
    for (const spec of this.#specs) {
      const path = spec.url.replace(/:([a-z_]+)/g, '{$1}');
      const params = (spec.schema.params as { properties?: Record<string, object> } | undefined)
        ?.properties;
      const query = (spec.schema.querystring as { properties?: Record<string, object> } | undefined)
        ?.properties;
      const parameters = [
        ...Object.entries(params ?? {}).map(([name, schema]) => ({
          name,
          in: 'path',
          required: true,
          schema,
        })),
        ...Object.entries(query ?? {}).map(([name, schema]) => ({ name, in: 'query', schema })),
        ...(spec.method === 'POST'
          ? [{ name: 'Idempotency-Key', in: 'header', schema: { type: 'string', maxLength: 255 } }]
          : []),
      ];
      (paths[path] ??= {})[spec.method.toLowerCase()] = {
        summary: spec.summary,
        parameters,
        ...(spec.schema.body === undefined
          ? {}
          : {
              requestBody: {
                required: true,
                content: { 'application/json': { schema: spec.schema.body } },
              },
            }),
        responses: {
          '2XX': { description: 'done' },
          '4XX': { description: 'refused', content: { 'application/json': { schema: errorBody } } },
        },
      };
    }
    return { openapi: '3.1.0', info: { title: 'Shardledger payments', version }, paths };
  }
}
