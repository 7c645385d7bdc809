/** JSON schemas shared by the REST routes; they validate input and also produce the OpenAPI document. */

export const problemSchema = {
  $id: 'Problem',
  type: 'object',
  description: 'RFC 9457 problem details',
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    code: { type: 'string' },
    requestId: { type: 'string' },
    errors: {
      type: 'array',
      description: 'For `validation_failed`: each input that is wrong, named as in the request',
      items: {
        type: 'object',
        properties: { field: { type: 'string' }, message: { type: 'string' } },
        required: ['field', 'message'],
      },
    },
    checks: {
      type: 'object',
      description:
        'For `service_unavailable` at `/readyz`: each dependency (`database`, and `redis` when configured) and whether it answered',
      additionalProperties: { type: 'string', enum: ['up', 'down'] },
    },
  },
} as const;

/** The workspace of the Dastra documentation's example (DESIGN.md 1). */
const WORKSPACE_EXAMPLE = {
  id: 1,
  tenantId: 1,
  label: 'My data company',
  logoUrl: null,
  state: 'Active',
  permissions: null,
  dataSubjectArchivedRetentionDays: null,
  nbEntities: 1,
};

/** `GET /v1/workspaces` as the Dastra documentation shows it. */
export const WORKSPACES_EXAMPLE = { items: [WORKSPACE_EXAMPLE], total: 1 };

export const workspaceSchema = {
  $id: 'Workspace',
  type: 'object',
  properties: {
    id: { type: 'integer' },
    tenantId: { type: 'integer' },
    label: { type: 'string' },
    logoUrl: { type: ['string', 'null'] },
    state: { type: 'string', enum: ['Active', 'Archived'] },
    permissions: { type: ['string', 'null'] },
    dataSubjectArchivedRetentionDays: { type: ['integer', 'null'] },
    nbEntities: { type: 'integer' },
  },
  required: [
    'id',
    'tenantId',
    'label',
    'logoUrl',
    'state',
    'permissions',
    'dataSubjectArchivedRetentionDays',
    'nbEntities',
  ],
  examples: [WORKSPACE_EXAMPLE],
} as const;

export const entitySchema = {
  $id: 'Entity',
  type: 'object',
  properties: {
    id: { type: 'integer' },
    workspaceId: { type: 'integer' },
    name: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
  },
  required: ['id', 'workspaceId', 'name', 'createdAt'],
} as const;

export const principalSchema = {
  $id: 'Principal',
  type: 'object',
  properties: {
    authMethod: { type: 'string', enum: ['apiKey', 'bearer'] },
    tenantId: { type: 'integer' },
    workspaceId: { type: ['integer', 'null'] },
    apiKey: {
      type: 'object',
      properties: { publicKey: { type: 'string' }, label: { type: 'string' } },
      required: ['publicKey', 'label'],
    },
    user: {
      type: ['object', 'null'],
      properties: {
        id: { type: 'integer' },
        email: { type: 'string' },
        displayName: { type: ['string', 'null'] },
        role: { type: 'string', enum: ['owner', 'admin', 'member'] },
      },
      required: ['id', 'email', 'displayName', 'role'],
    },
    scope: { type: 'string' },
    permissions: {
      type: 'string',
      enum: ['read', 'write', 'admin'],
      description:
        "What this credential may do: its key's, and for a user token no more than the user's role",
    },
  },
  required: ['authMethod', 'tenantId', 'workspaceId', 'apiKey', 'user', 'scope', 'permissions'],
  examples: [
    {
      authMethod: 'apiKey',
      tenantId: 1,
      workspaceId: null,
      apiKey: { publicKey: 'gpk_3kT9fQ2mZ7xW4rB8nV1cL6hD', label: 'My first key' },
      user: null,
      scope: 'api1',
      permissions: 'write',
    },
  ],
} as const;

/** Paging parameters as the original API's clients send them. */
export const pageQuerySchema = {
  type: 'object',
  properties: {
    page: { type: 'integer', minimum: 1, maximum: 1_000_000, default: 1 },
    size: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
    q: { type: 'string', maxLength: 200 },
    sortBy: { type: 'string', maxLength: 50 },
    asc: { type: 'boolean' },
  },
} as const;

/** A page of `itemRef` items; `example`, when given, is the page the API reference shows. */
export function pageOf(itemRef: string, example?: { items: unknown[]; total: number }) {
  return {
    type: 'object',
    description: 'One page: `total` counts every item that matches, on all pages',
    properties: {
      items: { type: 'array', items: { $ref: `${itemRef}#` } },
      total: { type: 'integer' },
    },
    required: ['items', 'total'],
    ...(example ? { examples: [example] } : {}),
  } as const;
}

export const idParam = (name: string) =>
  ({
    type: 'object',
    properties: { [name]: { type: 'integer', minimum: 1, maximum: 2_147_483_647 } },
    required: [name],
  }) as const;

/** Responses every authenticated route may give. */
export const authErrors = {
  401: { $ref: 'Problem#' },
  404: { $ref: 'Problem#' },
  429: { $ref: 'Problem#' },
} as const;

/** Any credential: an API key, a token from this server's OAuth2 flows, or a bearer token. */
export const security = [{ apiKey: [] }, { oauth2: ['api1'] }, { bearer: [] }];

/** A person's own resources: only a user token (authorization code flow) reaches them. */
export const userSecurity = [{ oauth2: ['api1'] }, { bearer: [] }];

/** Responses of every admin route: bad input (naming the field), no credential, out of scope, too many. */
export const adminErrors = {
  400: { $ref: 'Problem#' },
  ...authErrors,
} as const;

/** The path parameter of one API key: its public key. */
export const publicKeyParam = {
  type: 'object',
  properties: { publicKey: { type: 'string', pattern: '^gpk_[0-9A-Za-z]{24}$' } },
  required: ['publicKey'],
} as const;
