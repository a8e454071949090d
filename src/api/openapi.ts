import { z } from 'zod';
import { apiTags, type ApiResponse, type ApiRoute } from './routes';
import { errorBody, namedSchemas } from './schemas';

/**
 * Builds the OpenAPI 3.1 document from the route table, converting the same zod schemas
 * that validate requests (zod 4's `z.toJSONSchema`, JSON Schema 2020-12, which OpenAPI 3.1
 * uses as is). Request bodies are described as the server accepts them (`io: 'input'`:
 * before defaults and coercion), answers as it sends them (`io: 'output'`). Each route's
 * bodies become named components (`<Name>Request`, `<Name><status>`) so clients get
 * stable names.
 */
export type JsonSchema = Record<string, unknown>;

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string; license: { name: string; identifier: string } };
  servers: { url: string }[];
  tags: { name: string; description: string }[];
  paths: Record<string, Record<string, unknown>>;
  components: {
    schemas: Record<string, JsonSchema>;
    requestBodies: Record<string, unknown>;
    securitySchemes: Record<string, unknown>;
  };
  security: Record<string, string[]>[];
}

const capitalize = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);
const schemaUri = (id: string) => `#/components/schemas/${id}`;
const componentRef = (id: string) => ({ $ref: schemaUri(id) });
/** Where a request body's JSON schema lives (a JSON pointer into its request body component). */
const requestSchemaUri = (id: string) => `#/components/requestBodies/${id}/content/application~1json/schema`;

/** `{*path}` (a Functions catch-all) is `{path}` in OpenAPI. */
export const openApiPath = (template: string) => `/${template.replace(/\{\*?([^}:?]+)[^}]*\}/g, '{$1}')}`;

/** Converts schemas into components; a schema object that appears twice gets one
 * component (the first name it was given), and nested named shapes become `$ref`s. */
function toSchemas(
  entries: readonly (readonly [string, z.ZodType])[],
  io: 'input' | 'output',
  uri: (id: string) => string,
): { schemas: Record<string, JsonSchema>; idOf: Map<z.ZodType, string> } {
  const registry = z.registry<{ id: string }>();
  const idOf = new Map<z.ZodType, string>();
  for (const [id, schema] of entries) {
    if (idOf.has(schema)) continue;
    idOf.set(schema, id);
    registry.add(schema, { id });
  }
  // unrepresentable: 'any' keeps refinements and transforms (checked by the server) from
  // failing the conversion; the JSON shape they check is still described.
  const out = z.toJSONSchema(registry, { io, unrepresentable: 'any', uri }).schemas;
  const schemas = Object.fromEntries(
    Object.entries(out).map(([id, schema]) => {
      const { $schema: _s, $id: _i, ...rest } = schema as JsonSchema;
      return [id, rest];
    }),
  );
  return { schemas, idOf };
}

function parameters(route: ApiRoute): unknown[] {
  const list: unknown[] = [];
  const add = (where: 'path' | 'query', shape: z.ZodObject | undefined) => {
    for (const [name, schema] of Object.entries(shape?.shape ?? {})) {
      const json = z.toJSONSchema(schema as z.ZodType, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
      const { $schema: _s, description, ...rest } = json;
      const optional = (schema as z.ZodType).safeParse(undefined).success;
      list.push({ name, in: where, required: where === 'path' || !optional, ...(description === undefined ? {} : { description }), schema: rest });
    }
  };
  add('path', route.params);
  add('query', route.query);
  return list;
}

function responseObject(response: ApiResponse, idOf: Map<z.ZodType, string>): unknown {
  const id = response.schema === undefined ? undefined : idOf.get(response.schema);
  if (id !== undefined) return { description: response.description, content: { 'application/json': { schema: componentRef(id) } } };
  if (response.contentType !== undefined) return { description: response.description, content: { [response.contentType]: { schema: {} } } };
  return { description: response.description };
}

const bodyComponent = (route: ApiRoute) => `${capitalize(route.name)}Request`;
const responseComponent = (route: ApiRoute, status: number) => `${capitalize(route.name)}${status}`;

/** The answers a route gives besides its own: every route can fail inside (500) or be
 * unavailable (503); one that takes input can reject it (400); one that authenticates can
 * refuse the caller (401). */
function allResponses(route: ApiRoute): [number, ApiResponse][] {
  const common: Record<number, ApiResponse> = {
    500: { description: 'internal error', schema: errorBody },
    503: { description: 'unavailable: an adapter (ledger, key store, storage) cannot be reached', schema: errorBody },
  };
  if (route.params || route.query || route.body) common[400] = { description: 'validation_failed: every bad field in details', schema: errorBody };
  if (route.auth !== 'none') common[401] = { description: 'unauthenticated: no or unknown bearer token', schema: errorBody };
  return Object.entries({ ...common, ...route.responses }).map(([status, r]) => [Number(status), r]);
}

export function buildOpenApiDocument(routes: readonly ApiRoute[], info: { version: string }): OpenApiDocument {
  const requestEntries = routes.flatMap((r) => (r.body === undefined ? [] : [[bodyComponent(r), r.body] as const]));
  const responseEntries = routes.flatMap((r) =>
    allResponses(r).flatMap(([status, resp]) => (resp.schema === undefined ? [] : [[responseComponent(r, status), resp.schema] as const])),
  );
  const requests = toSchemas(requestEntries, 'input', requestSchemaUri);
  const answers = toSchemas([...Object.entries(namedSchemas), ...responseEntries], 'output', schemaUri);
  // Request bodies are request body components, not schemas: a field with a default is optional
  // to the client, and generators (openapi-typescript) read a `default` in a schema component
  // as "always present", which holds for answers only.
  const requestBodies: OpenApiDocument['components']['requestBodies'] = {};
  for (const route of routes) {
    if (route.body === undefined) continue;
    const name = bodyComponent(route);
    requestBodies[name] = {
      required: !route.body.safeParse(undefined).success,
      content: {
        'application/json': { schema: requests.schemas[name] },
        ...(route.rawBody ? { [route.rawBody.contentType]: { schema: { type: 'string', description: route.rawBody.description } } } : {}),
      },
    };
  }

  const paths: OpenApiDocument['paths'] = {};
  for (const route of routes) {
    const operation: Record<string, unknown> = {
      operationId: route.name,
      summary: route.summary,
      tags: [route.tag],
      ...(route.auth === 'user' ? {} : { security: route.auth === 'none' ? [] : [{ callbackToken: [] }] }),
      parameters: parameters(route),
      responses: Object.fromEntries(allResponses(route).map(([status, resp]) => [String(status), responseObject(resp, answers.idOf)])),
    };
    if (route.body !== undefined) operation['requestBody'] = { $ref: `#/components/requestBodies/${bodyComponent(route)}` };
    (paths[openApiPath(route.path)] ??= {})[route.method.toLowerCase()] = operation;
  }

  return {
    openapi: '3.1.0',
    info: {
      title: 'ledgerflow',
      version: info.version,
      description:
        'Register datasets, lease them on a Hyperledger Fabric ledger, and run workflows beside the data. ' +
        'Errors are {"error": {"code", "message", "details"?}}; the code is stable.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: '/api' }],
    tags: [...new Set(routes.map((r) => r.tag))].map((name) => ({ name, description: apiTags[name] })),
    paths,
    components: {
      schemas: answers.schemas,
      requestBodies,
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'a token from the LEDGERFLOW_TOKENS setting (locally); on Azure, App Service authentication' },
        callbackToken: { type: 'http', scheme: 'bearer', description: "a job attempt's callback token, given to the compute backend at launch" },
      },
    },
    security: [{ bearer: [] }],
  };
}
