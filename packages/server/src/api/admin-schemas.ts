/** JSON schemas of the admin API: keys, members, consents (they also produce the OpenAPI document). */

const dateTime = { type: 'string', format: 'date-time' } as const;
const nullableDateTime = { type: ['string', 'null'], format: 'date-time' } as const;
const urlList = (description: string) =>
  ({
    type: 'array',
    maxItems: 50,
    items: { type: 'string', minLength: 1, maxLength: 2048 },
    description,
  }) as const;

export const REDIRECT_URIS = urlList(
  'Redirect URLs, matched byte for byte: https, or http on a loopback host',
);
export const CORS_ORIGINS = urlList('Allowed CORS origins: scheme://host[:port], no path, no trailing slash');
export const POST_LOGOUT_REDIRECT_URIS = urlList(
  'Where RP-initiated logout may send the browser back (post_logout_redirect_uri), matched byte for byte: https, or http on a loopback host',
);
export const CLIENT_TYPE = {
  type: 'string',
  enum: ['confidential', 'public'],
  description:
    'confidential: a server that keeps a private key. public: a single-page or native app; no private key, PKCE required. Set at creation, never changed',
} as const;
export const ID_TOKEN_ALGORITHM = {
  type: 'string',
  enum: ['RS256', 'ES256'],
  description: "How this client's ID tokens are signed (id_token_signed_response_alg)",
} as const;

export const apiKeySchema = {
  $id: 'ApiKey',
  type: 'object',
  properties: {
    publicKey: { type: 'string', description: 'The OAuth client_id; not a secret' },
    label: { type: 'string' },
    workspaceId: { type: ['integer', 'null'], description: 'The one workspace the key reaches; null: all' },
    permissions: { type: 'string', enum: ['read', 'write', 'admin'] },
    redirectUris: { type: 'array', items: { type: 'string' } },
    corsOrigins: { type: 'array', items: { type: 'string' } },
    clientType: CLIENT_TYPE,
    postLogoutRedirectUris: { type: 'array', items: { type: 'string' } },
    idTokenSignedResponseAlg: ID_TOKEN_ALGORITHM,
    last4: {
      type: ['string', 'null'],
      description:
        'The last 4 characters of the current private key; null for a public client, which has none',
    },
    status: { type: 'string', enum: ['active', 'revoked', 'expired'] },
    createdBy: { type: ['string', 'null'] },
    createdAt: dateTime,
    lastUsedAt: nullableDateTime,
    expiresAt: nullableDateTime,
    revokedAt: nullableDateTime,
  },
  required: [
    'publicKey',
    'label',
    'workspaceId',
    'permissions',
    'redirectUris',
    'corsOrigins',
    'clientType',
    'postLogoutRedirectUris',
    'idTokenSignedResponseAlg',
    'last4',
    'status',
    'createdBy',
    'createdAt',
    'lastUsedAt',
    'expiresAt',
    'revokedAt',
  ],
} as const;

export const issuedApiKeySchema = {
  $id: 'IssuedApiKey',
  type: 'object',
  description: 'A key with its private key: shown this once, stored only as a hash',
  properties: {
    ...apiKeySchema.properties,
    privateKey: {
      type: ['string', 'null'],
      description:
        'The secret (X-API-Key, client_secret); never shown again. null for a public client, which has no private key',
    },
    previousKeyExpiresAt: {
      ...nullableDateTime,
      description: "After a rotation: end of the old key's grace period",
    },
  },
  required: [...apiKeySchema.required, 'privateKey'],
} as const;

export const memberSchema = {
  $id: 'Member',
  type: 'object',
  properties: {
    id: { type: 'integer', description: 'The user id' },
    email: { type: 'string' },
    displayName: { type: ['string', 'null'] },
    role: { type: 'string', enum: ['owner', 'admin', 'member'] },
    workspaceIds: {
      type: ['array', 'null'],
      items: { type: 'integer' },
      description: 'The workspaces a member is limited to; null: all',
    },
    createdAt: dateTime,
  },
  required: ['id', 'email', 'displayName', 'role', 'workspaceIds', 'createdAt'],
} as const;

export const addedMemberSchema = {
  $id: 'AddedMember',
  type: 'object',
  properties: {
    ...memberSchema.properties,
    created: { type: 'boolean', description: 'False when an existing account joined as it is' },
    signInLink: {
      type: 'string',
      description:
        'For a new account added without a password: a one-time sign-in link (24 h), shown this once',
    },
  },
  required: [...memberSchema.required, 'created'],
} as const;

export const consentSchema = {
  $id: 'Consent',
  type: 'object',
  properties: {
    publicKey: { type: 'string' },
    label: { type: 'string', description: "The application's name (its key's label)" },
    tenantId: { type: 'integer' },
    tenantLabel: { type: 'string' },
    scope: { type: 'string' },
    createdAt: dateTime,
  },
  required: ['publicKey', 'label', 'tenantId', 'tenantLabel', 'scope', 'createdAt'],
} as const;

const usageCounts = {
  accepted: { type: 'integer' },
  revoked: { type: 'integer', description: 'Refused: the key is revoked' },
  expired: { type: 'integer', description: 'Refused: the key has expired' },
  rotatedOut: { type: 'integer', description: 'Refused: a private key past its rotation grace period' },
  rateLimited: { type: 'integer', description: "Refused: the key's rate limit was spent" },
} as const;
const usageCountNames = ['accepted', 'revoked', 'expired', 'rotatedOut', 'rateLimited'] as const;

export const keyUsageSchema = {
  $id: 'KeyUsage',
  type: 'object',
  description:
    "A key's requests per hour or day (UTC), by outcome; every bucket of the range, zeros included",
  properties: {
    publicKey: { type: 'string' },
    interval: { type: 'string', enum: ['hour', 'day'] },
    from: { ...dateTime, description: 'Start of the first bucket' },
    to: { ...dateTime, description: 'End of the last bucket (exclusive)' },
    buckets: {
      type: 'array',
      items: {
        type: 'object',
        properties: { start: dateTime, ...usageCounts },
        required: ['start', ...usageCountNames],
      },
    },
    totals: {
      type: 'object',
      properties: {
        ...usageCounts,
        refused: {
          type: 'integer',
          description: 'Every refusal: revoked, expired, rotated out, rate limited',
        },
      },
      required: [...usageCountNames, 'refused'],
    },
  },
  required: ['publicKey', 'interval', 'from', 'to', 'buckets', 'totals'],
} as const;

export const ADMIN_SCHEMAS = [
  apiKeySchema,
  issuedApiKeySchema,
  memberSchema,
  addedMemberSchema,
  consentSchema,
  keyUsageSchema,
];
