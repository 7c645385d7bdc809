import type { ErrorObject, ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { FastifyInstance } from 'fastify';

/** The parts of the OpenAPI 3.1 document the tests read. */
export interface MediaType {
  schema?: Record<string, unknown>;
  example?: unknown;
  examples?: Record<string, { value: unknown }>;
}
export interface Response {
  description: string;
  content?: Record<string, MediaType>;
  headers?: Record<string, unknown>;
}
export interface Operation {
  tags?: string[];
  summary?: string;
  security?: Record<string, string[]>[];
  parameters?: unknown[];
  requestBody?: { content: Record<string, MediaType> };
  responses: Record<string, Response>;
}
export interface OpenApiDocument {
  openapi: string;
  info: { title: string; description?: string };
  paths: Record<string, Record<string, Operation>>;
  components: {
    schemas: Record<string, Record<string, unknown>>;
    securitySchemes: Record<string, Record<string, unknown>>;
  };
}

/** The document as clients fetch it, at the original API's path. */
export async function fetchDocument(app: FastifyInstance): Promise<OpenApiDocument> {
  const res = await app.inject({ url: '/swagger/v1/swagger.json' });
  if (res.statusCode !== 200) throw new Error(`swagger.json answered ${res.statusCode}`);
  return res.json();
}

/** `/v1/workspaces/:id` as the document spells it: `/v1/workspaces/{id}`. */
export const documentPath = (fastifyPath: string) => fastifyPath.replace(/:(\w+)/g, '{$1}');

/** The media type of a Content-Type header: `application/problem+json; charset=utf-8` → `application/problem+json`. */
export const mediaTypeOf = (contentType: unknown) =>
  String(contentType ?? '')
    .split(';', 1)[0]
    ?.trim()
    .toLowerCase() ?? '';

/**
 * Validates JSON values against the document's schemas with Ajv in JSON Schema 2020-12 mode (what
 * OpenAPI 3.1 uses). Each schema is compiled beside the document's components, so that its
 * `#/components/schemas/...` references resolve as they do for any client.
 */
export class SchemaValidator {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true });
  private readonly cache = new Map<unknown, ValidateFunction>();

  constructor(private readonly document: OpenApiDocument) {
    // ajv-formats is CommonJS: its default export is the plugin function itself.
    (addFormats as unknown as (ajv: Ajv2020) => void)(this.ajv);
  }

  /** The errors of `value` against `schema` (empty when it matches). */
  errors(schema: Record<string, unknown>, value: unknown): ErrorObject[] {
    let validate = this.cache.get(schema);
    if (!validate) {
      validate = this.ajv.compile({ ...schema, components: this.document.components });
      this.cache.set(schema, validate);
    }
    return validate(value) ? [] : [...(validate.errors ?? [])];
  }
}

/** Every example the document gives for a media type, and for a component schema. */
export function examplesOf(
  document: OpenApiDocument,
): { where: string; schema: Record<string, unknown>; value: unknown }[] {
  const found: { where: string; schema: Record<string, unknown>; value: unknown }[] = [];
  const fromMedia = (where: string, media: MediaType) => {
    if (!media.schema) return;
    if (media.example !== undefined) found.push({ where, schema: media.schema, value: media.example });
    for (const [name, example] of Object.entries(media.examples ?? {}))
      found.push({ where: `${where} (${name})`, schema: media.schema, value: example.value });
  };
  for (const [path, operations] of Object.entries(document.paths))
    for (const [method, operation] of Object.entries(operations)) {
      for (const [type, media] of Object.entries(operation.requestBody?.content ?? {}))
        fromMedia(`${method.toUpperCase()} ${path} request ${type}`, media);
      for (const [status, response] of Object.entries(operation.responses))
        for (const [type, media] of Object.entries(response.content ?? {}))
          fromMedia(`${method.toUpperCase()} ${path} ${status} ${type}`, media);
    }
  for (const [name, schema] of Object.entries(document.components.schemas))
    for (const value of (schema.examples as unknown[] | undefined) ?? [])
      found.push({
        where: `components.schemas.${name}`,
        schema: { $ref: `#/components/schemas/${name}` },
        value,
      });
  return found;
}
