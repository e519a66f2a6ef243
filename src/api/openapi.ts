import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import {
  AbortCommand,
  ApproveCommand,
  PauseCommand,
  PromoteCommand,
  RestartCommand,
  ResumeCommand,
} from '../domain/commands.schema.js';
import { specJsonSchema } from '../spec/load.js';
import {
  AlertmanagerResponse,
  AlertmanagerWebhook,
  CommandAckSchema,
  ErrorBody,
  Health,
  RestartResponse,
  RolloutList,
  RolloutStatusSchema,
  StartResponse,
} from './schemas.js';
import { ListQuery } from '../client/visibility.js';

/** Names of the schemas under `#/components/schemas`. */
export type SchemaName =
  | 'RolloutSpec'
  | 'PauseCommand'
  | 'ResumeCommand'
  | 'PromoteCommand'
  | 'ApproveCommand'
  | 'AbortCommand'
  | 'RestartCommand'
  | 'RestartResponse'
  | 'AlertmanagerWebhook'
  | 'AlertmanagerResponse'
  | 'StartResponse'
  | 'CommandAck'
  | 'RolloutList'
  | 'RolloutStatus'
  | 'Error'
  | 'Health';

/** How a route describes itself for the OpenAPI document (`config.doc`). */
export interface RouteDoc {
  summary: string;
  tags: string[];
  body?: { schema: SchemaName; contentTypes?: string[] };
  /** Status code → description and optional body schema. 401 is added to every authenticated route. */
  responses: Record<number, string | [string, SchemaName | 'text']>;
  query?: boolean;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    doc?: RouteDoc;
  }
}

type Json = Record<string, unknown>;
interface CollectedRoute {
  method: string;
  url: string;
  doc: RouteDoc;
  public: boolean;
}

const input = (schema: z.ZodType): Json => z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Json;
const output = (schema: z.ZodType): Json => z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }) as Json;

/**
 * Adds a JSON Schema as a component. Its `$defs` become sibling components and its `$ref`s are rewritten,
 * because `#/$defs/…` inside a component would resolve against the OpenAPI document's root.
 */
function addComponent(components: Json, name: string, schema: Json): void {
  const { $schema: _ignored, $defs, ...rest } = schema;
  const rewrite = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(rewrite);
    if (value === null || typeof value !== 'object') return value;
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => {
        if (k !== '$ref' || typeof v !== 'string') return [k, rewrite(v)];
        if (v === '#') return [k, `#/components/schemas/${name}`];
        return [k, v.replace(/^#\/\$defs\//, `#/components/schemas/${name}_`)];
      }),
    );
  };
  components[name] = rewrite(rest);
  for (const [def, defSchema] of Object.entries(($defs ?? {}) as Json))
    components[`${name}_${def}`] = rewrite(defSchema);
}

function schemas(): Json {
  const components: Json = {};
  const all: [SchemaName, Json][] = [
    ['RolloutSpec', specJsonSchema()],
    ['PauseCommand', input(PauseCommand)],
    ['ResumeCommand', input(ResumeCommand)],
    ['PromoteCommand', input(PromoteCommand)],
    ['ApproveCommand', input(ApproveCommand)],
    ['AbortCommand', input(AbortCommand)],
    ['RestartCommand', input(RestartCommand)],
    ['RestartResponse', output(RestartResponse)],
    ['AlertmanagerWebhook', input(AlertmanagerWebhook)],
    ['AlertmanagerResponse', output(AlertmanagerResponse)],
    ['StartResponse', output(StartResponse)],
    ['CommandAck', output(CommandAckSchema)],
    ['RolloutList', output(RolloutList)],
    ['RolloutStatus', output(RolloutStatusSchema)],
    ['Error', output(ErrorBody)],
    ['Health', output(Health)],
  ];
  for (const [name, schema] of all) addComponent(components, name, schema);
  return components;
}

const ref = (name: SchemaName): Json => ({ $ref: `#/components/schemas/${name}` });

function operation(route: CollectedRoute): Json {
  const { doc } = route;
  const params = [...route.url.matchAll(/:(\w+)/g)].map(([, name]) => ({
    name,
    in: 'path',
    required: true,
    schema: { type: 'string' },
    ...(name === 'id'
      ? { description: 'workflow ID, URL-encoded (rollout%2F<flag>); or use /rollouts/rollout/{flag}' }
      : {}),
  }));
  const queryParams = doc.query
    ? Object.entries((output(ListQuery).properties ?? {}) as Json).map(([name, schema]) => ({
        name,
        in: 'query',
        required: false,
        schema,
      }))
    : [];
  const responses: Json = {};
  const codes: RouteDoc['responses'] = {
    ...doc.responses,
    ...(route.public ? {} : { 401: 'missing or wrong bearer token' }),
  };
  for (const [code, spec] of Object.entries(codes)) {
    const [description, schema]: [string, SchemaName | 'text' | undefined] =
      typeof spec === 'string' ? [spec, Number(code) >= 400 ? 'Error' : undefined] : spec;
    const media =
      schema === undefined
        ? { 'application/json': { schema: { type: 'object' } } }
        : schema === 'text'
          ? { 'text/plain': { schema: { type: 'string' } } }
          : { 'application/json': { schema: ref(schema) } };
    responses[code] = { description, content: media };
  }
  const body = doc.body && {
    required: true,
    content: Object.fromEntries(
      (doc.body.contentTypes ?? ['application/json']).map((t) => [t, { schema: ref(doc.body!.schema) }]),
    ),
  };
  return {
    summary: doc.summary,
    tags: doc.tags,
    operationId: `${route.method.toLowerCase()}${route.url.replace(/[/:](\w)/g, (_, c: string) => c.toUpperCase()).replace(/\W/g, '')}`,
    security: route.public ? [] : [{ bearerAuth: [] }],
    ...(params.length + queryParams.length > 0 ? { parameters: [...params, ...queryParams] } : {}),
    ...(body ? { requestBody: body } : {}),
    responses,
  };
}

/**
 * Collects every route registered after this call that carries `config.doc`, and returns a function building the
 * OpenAPI 3.1 document from them (once, on first use): the document cannot forget a route.
 */
export function collectOpenApi(app: FastifyInstance, info: { title: string; version: string }): () => Json {
  const routes: CollectedRoute[] = [];
  app.addHook('onRoute', (route) => {
    const doc = route.config?.doc;
    if (!doc) return;
    for (const method of [route.method].flat()) {
      if (method === 'HEAD') continue;
      routes.push({ method, url: route.url ?? route.path, doc, public: route.config?.public === true });
    }
  });
  let document: Json | undefined;
  return () => {
    if (document) return document;
    const paths: Record<string, Json> = {};
    for (const route of routes) {
      const path = route.url.replace(/:(\w+)/g, '{$1}');
      paths[path] = { ...paths[path], [route.method.toLowerCase()]: operation(route) };
    }
    document = {
      openapi: '3.1.0',
      info: { ...info, description: 'Start, inspect and operate progressive rollouts; receive Alertmanager breaches.' },
      jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
      security: [{ bearerAuth: [] }],
      paths,
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } }, schemas: schemas() },
    };
    return document;
  };
}
