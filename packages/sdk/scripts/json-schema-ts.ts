/**
 * Converts the few JSON-schema shapes our route schemas contain (draft 2020-12, as OpenAPI 3.1 uses
 * it) into TypeScript type expressions, for the generated files of `src/`.
 */

export interface Schema {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  additionalProperties?: boolean | Schema;
  description?: string;
  format?: string;
}

export const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** A `$ref` (`#/components/schemas/Workspace`) as the name of its generated interface. */
export function refName(ref: string): string {
  const name = ref.split('/').pop() ?? ref;
  if (!IDENTIFIER.test(name)) throw new Error(`unsupported $ref ${ref}`);
  return name;
}

const literal = (value: unknown) => (typeof value === 'string' ? `'${value}'` : JSON.stringify(value));

function scalar(type: string, schema: Schema, indent: string): string {
  switch (type) {
    case 'string':
      return schema.enum ? schema.enum.map(literal).join(' | ') : 'string';
    case 'integer':
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'null':
      return 'null';
    case 'array':
      return `${wrap(toType(schema.items ?? {}, indent))}[]`;
    case 'object':
      return objectType(schema, indent);
    default:
      throw new Error(`unsupported JSON schema type ${type}`);
  }
}

const wrap = (t: string) => (t.includes('|') ? `(${t})` : t);

/** A JSON schema as a TypeScript type expression. */
export function toType(schema: Schema, indent: string): string {
  if (schema.$ref) return refName(schema.$ref);
  if (schema.const !== undefined) return literal(schema.const);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives) return alternatives.map((s) => toType(s, indent)).join(' | ');
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  if (types.length === 0) return 'unknown';
  return types.map((t) => scalar(t, schema, indent)).join(' | ');
}

/** A TSDoc line for a description, or nothing. */
export function doc(description: string | undefined, indent: string): string {
  return description ? `${indent}/** ${description.replace(/\*\//g, '*\\/')} */\n` : '';
}

/** An object schema as a type literal: required properties plain, the others optional. */
export function objectType(schema: Schema, indent: string): string {
  const properties = Object.entries(schema.properties ?? {});
  if (properties.length === 0) return 'Record<string, unknown>';
  const inner = `${indent}  `;
  const required = new Set(schema.required ?? []);
  const lines = properties.map(([name, property]) => {
    const key = IDENTIFIER.test(name) ? name : `'${name}'`;
    const optional = required.has(name) ? '' : '?';
    return `${doc(property.description, inner)}${inner}${key}${optional}: ${toType(property, inner)};`;
  });
  return `{\n${lines.join('\n')}\n${indent}}`;
}
