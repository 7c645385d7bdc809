import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import fc from 'fast-check';
import type { FastifyInstance, HTTPMethods } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startSession } from '../../src/domain/sessions.ts';
import { Browser, csrfOf, pkcePair, tokenRequest } from '../helpers/authorization-flow.ts';
import { countStatuses, releaseMany } from '../helpers/concurrent.ts';
import { PASSWORD, type Seed } from '../helpers/seed.ts';
import { useSeededApp } from '../helpers/seeded-app.ts';
import { describeEachDialect } from '../helpers/test-app.ts';
import {
  type Body,
  type FuzzRequest,
  fuzzRequest,
  type HeaderValue,
  type Param,
  type PathMutation,
  type Placeholder,
  type Value,
} from './fuzz-arbitraries.ts';

/**
 * DESIGN.md 3 rules 1, 4, 8 and 10, attacked with generated requests on every route: whatever a client
 * sends, the answer is below 500, in the documented format of the route's family, with the security
 * headers, without a stack trace, and without echoing a secret. Most requests go through `inject`; a
 * smaller sample goes over a raw socket, because `inject` normalizes the request-target (absolute
 * form, dot segments, backslashes) before Fastify sees it.
 *
 * GATEHOUSE_FUZZ_RUNS scales the number of requests, GATEHOUSE_FUZZ_SEED replays a run (fast-check
 * prints the seed of a failure), and GATEHOUSE_FUZZ_SURVEY=<file> records every distinct failure in
 * that JSON file instead of stopping at the first.
 */
const RUNS = Number(process.env.GATEHOUSE_FUZZ_RUNS ?? 5000);
const RAW_RUNS = Math.ceil(RUNS / 12);
const SEED = process.env.GATEHOUSE_FUZZ_SEED ? Number(process.env.GATEHOUSE_FUZZ_SEED) : undefined;
const SURVEY = process.env.GATEHOUSE_FUZZ_SURVEY;

const REDIRECT = 'https://app.example/callback';
/** Off-server places a redirect may lead to: the registered redirect URIs of the seeded keys. */
const REGISTERED_REDIRECTS = [REDIRECT];
const UNLIMITED = {
  GATEHOUSE_RATE_LIMIT: '10000000',
  GATEHOUSE_TOKEN_RATE_LIMIT: '10000000',
  GATEHOUSE_AUTH_FAILURE_LIMIT: '10000000',
};

/** The live values placeholders stand for, and every secret the oracle must never see echoed. */
class LiveValues {
  readonly values = new Map<Placeholder, string>();
  /** Secret value -> its name, for the echo check and to print counterexamples without secrets. */
  readonly secrets = new Map<string, string>();

  constructor(
    private readonly app: FastifyInstance,
    private readonly userId: number,
  ) {}

  set(name: Placeholder, value: string, secret: boolean): void {
    this.values.set(name, value);
    if (secret) this.secrets.set(value, name);
  }

  get(name: Placeholder): string {
    const value = this.values.get(name);
    if (value === undefined) throw new Error(`no live value for ${name}`);
    return value;
  }

  /** A new session for the signed-in browser (the fuzz may have ended it), and its CSRF token. */
  async renewSession(): Promise<void> {
    const { token } = await startSession(this.app.services.db, this.userId);
    this.set('SESSION', token, true);
    const page = await this.app.inject({
      method: 'GET',
      url: '/console',
      headers: { cookie: `gatehouse-session=${token}; gatehouse-csrf=${this.get('CSRF_COOKIE')}` },
    });
    this.set('CSRF_SIGNED', csrfOf(page.body), false);
  }
}

/** Seeds two tenants and obtains one of every credential: tokens, a used code, a session, CSRF tokens. */
async function liveValues(app: FastifyInstance, s: Seed): Promise<LiveValues> {
  const live = new LiveValues(app, s.a.userId);
  live.set('KEY_A', s.orgKeyA.privateKey, true);
  live.set('KEY_WS', s.workspaceKeyA.privateKey, true);
  live.set('KEY_B', s.orgKeyB.privateKey, true);
  live.set('PUB_A', s.orgKeyA.key.publicKey, false);
  live.set('PUB_WS', s.workspaceKeyA.key.publicKey, false);
  live.set('PUB_B', s.orgKeyB.key.publicKey, false);
  live.set('WS_MAIN', String(s.a.mainWorkspaceId), false);
  live.set('WS_SECOND', String(s.a.secondWorkspaceId), false);
  live.set('WS_B', String(s.b.workspaceId), false);
  live.set('PASSWORD', PASSWORD, true);
  live.set('EMAIL_A', 'owner@a.test', false);
  live.set('EMAIL_B', 'owner@b.test', false);
  live.set('REDIRECT', REDIRECT, false);
  live.set('ISSUER', new URL(app.services.config.issuer).origin, false);
  live.secrets.set(app.services.config.secret, 'GATEHOUSE_SECRET');

  const entity = await app.inject({
    method: 'POST',
    url: `/v1/workspaces/${s.a.mainWorkspaceId}/entities`,
    headers: { 'x-api-key': s.orgKeyA.privateKey },
    payload: { name: 'Fuzz target' },
  });
  live.set('ENTITY', String(entity.json().id), false);
  const clientOf = (issued: Seed['orgKeyA']) => ({
    publicKey: issued.key.publicKey,
    privateKey: issued.privateKey,
  });
  const clientToken = async (issued: Seed['orgKeyA']) =>
    (await tokenRequest(app, clientOf(issued), { grant_type: 'client_credentials', scope: 'api1' })).json()
      .access_token;
  live.set('ACCESS_A', await clientToken(s.orgKeyA), true);
  live.set('ACCESS_WS', await clientToken(s.workspaceKeyA), true);

  const browser = new Browser(app);
  const { verifier, challenge } = pkcePair();
  const authorization = { response_type: 'code', client_id: s.orgKeyA.key.publicKey, redirect_uri: REDIRECT };
  const { location } = await browser.authorize(
    {
      ...authorization,
      // openid too: the user token then reaches userinfo, and the grant gives an ID token (a logout hint).
      scope: 'openid api1 offline_access',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    },
    { email: 'owner@a.test', password: PASSWORD },
  );
  const code = location?.searchParams.get('code');
  if (!code) throw new Error('the authorization code flow did not complete');
  const tokens = await tokenRequest(app, clientOf(s.orgKeyA), {
    grant_type: 'authorization_code',
    code,
    redirect_uri: REDIRECT,
    code_verifier: verifier,
  });
  live.set('CODE', code, true);
  live.set('VERIFIER', verifier, true);
  live.set('CHALLENGE', challenge, false);
  live.set('ACCESS_USER', tokens.json().access_token, true);
  live.set('REFRESH', tokens.json().refresh_token, true);
  // Not a secret to the oracle: the logout confirmation page carries the hint it was sent in its form.
  live.set('ID_TOKEN', tokens.json().id_token, false);

  const csrfCookie = browser.jar.cookies.get('gatehouse-csrf');
  if (!csrfCookie) throw new Error('the sign-in page set no CSRF cookie');
  live.set('CSRF_COOKIE', csrfCookie, true);
  const anonymous = await app.inject({
    method: 'GET',
    url: '/console/sign-in',
    headers: { cookie: `gatehouse-csrf=${csrfCookie}` },
  });
  live.set('CSRF_ANON', csrfOf(anonymous.body), false);
  await live.renewSession();
  return live;
}

// ---------------------------------------------------------------------------------------------------
// Building the bytes of a request

/** What goes on the wire: header values as Node would hand them over (latin1, no controls, trimmed). */
interface WireRequest {
  method: string;
  target: string;
  headers: [string, string][];
  body: Buffer | null;
  remoteAddress: string;
}

function resolve(text: string, live: LiveValues): string {
  return text.replace(/\{\{([A-Z_]+)\}\}/g, (match, name: Placeholder) => live.values.get(name) ?? match);
}

function textOf(value: Value, live: LiveValues): string {
  return typeof value === 'string' ? resolve(value, live) : value.repeat.repeat(value.count);
}

/** RFC 3986 percent-encoding of the UTF-8 bytes (lone surrogates become U+FFFD, as a browser sends). */
function percentEncode(text: string, plus: boolean): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const char = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-._~]/.test(char)) out += char;
    else if (plus && char === ' ') out += '+';
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function paramsText(list: Param[], live: LiveValues): string {
  return list
    .map(({ name, value, encoding }) => {
      const [n, v] = [textOf(name, live), textOf(value, live)];
      return encoding === 'raw'
        ? `${n}=${v}`
        : `${percentEncode(n, encoding === 'plus')}=${percentEncode(v, encoding === 'plus')}`;
    })
    .join('&');
}

function jsonOf(value: unknown, live: LiveValues): unknown {
  if (typeof value === 'string') return resolve(value, live);
  if (Array.isArray(value)) return value.map((item) => jsonOf(item, live));
  if (value && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    if (typeof record.$repeat === 'string' && typeof record.count === 'number')
      return record.$repeat.repeat(record.count);
    return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, jsonOf(v, live)]));
  }
  return value;
}

function bodyBytes(body: Body, live: LiveValues): Buffer {
  switch (body.kind) {
    case 'form':
      return Buffer.from(paramsText(body.params, live));
    case 'json':
      return Buffer.from(JSON.stringify(jsonOf(body.value, live)) ?? 'null');
    case 'nested':
      return Buffer.from(
        body.open.repeat(body.depth) + body.inner + (body.balanced ? body.close.repeat(body.depth) : ''),
      );
    case 'bytes':
      return Buffer.concat(
        body.segments.map((s) =>
          typeof s === 'object' && 'bytes' in s ? Buffer.from(s.bytes) : Buffer.from(textOf(s, live)),
        ),
      );
  }
}

function headerText(value: HeaderValue, live: LiveValues): string {
  if (typeof value === 'string' || 'repeat' in value) return textOf(value, live);
  if ('basicBytes' in value) return `Basic ${Buffer.from(value.basicBytes).toString('base64')}`;
  const [id, secret] = value.basic.map((v) => textOf(v, live)) as [string, string];
  const pair =
    value.style === 'form-encoded'
      ? `${percentEncode(id, true)}:${percentEncode(secret, true)}`
      : `${id}:${secret}`;
  const encoded = Buffer.from(pair).toString('base64');
  if (value.style === 'lowercase') return `basic ${encoded}`;
  if (value.style === 'spaces') return `Basic   ${encoded}  `;
  if (value.style === 'unpadded') return `Basic ${encoded.replace(/=+$/, '')}`;
  return `Basic ${encoded}`;
}

/** What Node's HTTP parser delivers for a header value: its bytes as latin1, without CR, LF, NUL or OWS. */
function onTheWire(text: string): string {
  const codes = [...text].map((c) => c.codePointAt(0) ?? 0);
  const latin1 = codes.some((c) => c > 0xff) ? Buffer.from(text, 'utf8').toString('latin1') : text;
  const visible = [...latin1].filter((c) => c === '\t' || (c >= ' ' && c !== '\u007f')).join('');
  return visible.replace(/^[ \t]+|[ \t]+$/g, '');
}

function mutate(path: string, m: PathMutation): string {
  // Never before the first character: an origin-form target starts with "/" (RFC 9112 3.2.1).
  const i = path.length > 1 && 'at' in m ? 1 + (m.at % (path.length - 1)) : path.length;
  switch (m.op) {
    case 'case':
      return [...path].map((c, k) => ((m.mask >> (k % 31)) & 1 ? c.toUpperCase() : c)).join('');
    case 'encode': {
      const hex = (path.charCodeAt(i) & 0xff).toString(16).padStart(2, '0');
      return `${path.slice(0, i)}%${m.upper ? hex.toUpperCase() : hex}${path.slice(i + 1)}`;
    }
    case 'insert':
      return path.slice(0, i) + m.text + path.slice(i);
    case 'append':
      return path + m.text;
    case 'prefix':
      return m.text + path;
  }
}

/**
 * The bytes of a request. Over a raw socket the request-target keeps its absolute form and dot
 * segments but must still be one the HTTP parser accepts (visible ASCII), as every client sends it;
 * what the parser itself refuses is tested separately below.
 */
function build(request: FuzzRequest, live: LiveValues, mode: 'inject' | 'raw'): WireRequest {
  let path = resolve(request.path, live);
  for (const m of request.mutations) path = mutate(path, m);
  const query = paramsText(request.query, live);
  let target = `${path}${query ? `?${query}` : ''}${request.rawQuery}`;
  let headers = request.headers.map(([name, value]): [string, string] => [
    name,
    onTheWire(headerText(value, live)),
  ]);
  if (mode === 'raw') {
    target = [...target].map((c) => (/[\u0021-\u007e]/.test(c) ? c : percentEncode(c, false))).join('');
    target = target.slice(0, 6000);
    headers = headers.map(([n, v]) => [n, v.slice(0, 3000)]);
  }
  const body = request.body ? bodyBytes(request.body, live) : null;
  return { method: request.method, target, headers, body, remoteAddress: request.remoteAddress };
}

// ---------------------------------------------------------------------------------------------------
// Sending

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** The request-target Fastify receives from `inject` (light-my-request parses it as a WHATWG URL). */
function injectedTarget(target: string): string | null {
  const url = URL.parse(target.startsWith('//') ? `http://localhost${target}` : target, 'http://localhost');
  return url ? url.pathname + url.search : null;
}

async function sendInject(app: FastifyInstance, request: WireRequest): Promise<Answer> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of request.headers) {
    const key = name.toLowerCase();
    const previous = headers[key];
    headers[key] = previous === undefined ? value : [...[previous].flat(), value];
  }
  const res = await app.inject({
    // Sound: light-my-request passes any method name through to Fastify, which is what is under test.
    method: request.method as HTTPMethods,
    url: request.target,
    headers,
    remoteAddress: request.remoteAddress,
    ...(request.body ? { payload: request.body } : {}),
  });
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(res.headers))
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join('\n') : String(value);
  return { status: res.statusCode, headers: flat, body: res.body };
}

/** Writes the exact bytes of a request on a socket and parses the HTTP/1.1 answer. */
function sendRaw(port: number, head: Buffer, body: Buffer | null, method: string): Promise<Answer> {
  return new Promise((done, fail) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(new Error('no answer within 10 s')), 10_000);
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', (error) => (chunks.length ? undefined : fail(error)));
    socket.on('close', () => {
      clearTimeout(timer);
      const answer = parseAnswer(Buffer.concat(chunks), method);
      if (answer) done(answer);
      else fail(new Error('the connection closed without an HTTP answer'));
    });
    socket.write(body ? Buffer.concat([head, body]) : head);
  });
}

function parseAnswer(bytes: Buffer, method: string): Answer | null {
  const end = bytes.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const [statusLine = '', ...lines] = bytes.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? Number.NaN);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}\n${value}`;
  }
  let rest = bytes.subarray(end + 4);
  if (method === 'HEAD') rest = Buffer.alloc(0);
  else if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
    const parts: Buffer[] = [];
    for (let at = 0; at < rest.length; ) {
      const lineEnd = rest.indexOf('\r\n', at);
      const size = Number.parseInt(rest.subarray(at, lineEnd).toString('latin1'), 16);
      if (!size) break;
      parts.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size));
      at = lineEnd + 2 + size + 2;
    }
    rest = Buffer.concat(parts);
  }
  return { status, headers, body: rest.toString('utf8') };
}

function rawHead(request: WireRequest): Buffer {
  const lines = [`${request.method} ${request.target} HTTP/1.1`, 'Connection: close'];
  if (!request.headers.some(([n]) => n.toLowerCase() === 'host')) lines.push('Host: 127.0.0.1');
  for (const [name, value] of request.headers) lines.push(`${name}: ${value}`);
  if (request.body) lines.push(`Content-Length: ${request.body.length}`);
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
}

/**
 * Fastify's default answer to what Node's HTTP parser refuses: written straight to the socket, without
 * the Date header of every answer that went through Node's response, and without ours.
 */
function refusedByParser(answer: Answer): boolean {
  return answer.headers.date === undefined && answer.headers['x-content-type-options'] === undefined;
}

// ---------------------------------------------------------------------------------------------------
// The oracle

type Family = 'problem' | 'oauth' | 'page';

/** The routes whose errors are not RFC 9457 problems, by where they are registered (DESIGN.md 2). */
const ROUTE_FAMILIES: { pattern: RegExp; family: Family; methods: string[] }[] = [
  { pattern: /^\/connect\/(token|revocation|introspect)$/, family: 'oauth', methods: ['POST'] },
  { pattern: /^\/connect\/userinfo$/, family: 'oauth', methods: ['GET', 'HEAD', 'POST'] },
  { pattern: /^\/connect\/authorize$/, family: 'page', methods: ['GET', 'HEAD', 'POST'] },
  { pattern: /^\/connect\/endsession$/, family: 'page', methods: ['GET', 'HEAD', 'POST'] },
  // The organization's console, and anything under /o/ that no route matches (its 404 is a page too).
  { pattern: /^\/o(\/|$)/, family: 'page', methods: ['GET', 'HEAD', 'POST'] },
  { pattern: /^\/console$/, family: 'page', methods: ['GET', 'HEAD'] },
  { pattern: /^\/console\/sign-in$/, family: 'page', methods: ['GET', 'HEAD', 'POST'] },
  {
    pattern: /^\/console\/(consent|sign-out|end-session|consents\/[^/]+\/revoke)$/,
    family: 'page',
    methods: ['POST'],
  },
  { pattern: /^\/console\/consents\/[^/]+$/, family: 'page', methods: ['DELETE'] },
];

/**
 * The paths the router may have seen: lower-cased (paths are case-insensitive, DESIGN.md 1), with
 * escapes of unreserved characters decoded (RFC 3986 6.2.2.2), fully decoded, and with invalid
 * escapes dropped. When they disagree on the family, any of their formats is accepted.
 */
function candidatePaths(target: string): string[] {
  const path = target.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, '').split(/[?#]/)[0] || '/';
  const unreserved = path.replace(/%([0-9A-Fa-f]{2})/g, (match, hex: string) => {
    const char = String.fromCharCode(Number.parseInt(hex, 16));
    return /[A-Za-z0-9\-._~]/.test(char) ? char : match;
  });
  const candidates = [unreserved, unreserved.replace(/%(?![0-9A-Fa-f]{2})[0-9A-Za-z]{0,2}/g, '')];
  // Dot segments resolved (RFC 3986 5.2.4), as a client or `inject` may send them: `/me/..` is `/`.
  const resolved = URL.parse(unreserved, 'http://x')?.pathname;
  if (resolved) candidates.push(resolved);
  try {
    candidates.push(decodeURIComponent(path));
  } catch {
    // Not decodable: the router refuses it before any route, the other candidates stand.
  }
  return [...new Set(candidates.map((c) => c.toLowerCase()))];
}

interface Expectation {
  families: Set<Family>;
  /** The single family every reading agrees on, with the method registered there. */
  strict: Family | null;
}

function expectationOf(method: string, target: string): Expectation {
  const families = new Set<Family>();
  let registered = true;
  for (const path of candidatePaths(target)) {
    const route = ROUTE_FAMILIES.find((r) => r.pattern.test(path));
    if (route) {
      families.add(route.family);
      if (!route.methods.includes(method)) registered = false;
    } else {
      families.add('problem');
      // A path that only starts like an endpoint's (`/console/nope`, `/connect/token%zz`) is no route:
      // answered by the root, or in the format of the endpoint it names.
      if (/^\/connect\/(token|revocation|introspect|userinfo)/.test(path)) families.add('oauth');
      // The root is the console's start (a page), yet a target the router refuses before routing, which
      // may read as `/` once its absolute-form origin is cut off, is answered by the root (a problem).
      if (/^\/(console|connect\/(authorize|endsession)|o(\/|$)|$)/.test(path)) families.add('page');
    }
  }
  // No route for this method: the root's 404 answers, or the CORS preflight for OPTIONS.
  if (!registered || method === 'OPTIONS') families.add('problem');
  const [only] = families;
  return { families, strict: families.size === 1 && only ? only : null };
}

const OAUTH_ERRORS = new Set([
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_scope',
  'unsupported_token_type',
  // RFC 6750 3.1, at the userinfo endpoint.
  'invalid_token',
  'insufficient_scope',
]);
/** RFC 6749 5.2: error_description is limited to %x20-21 / %x23-5B / %x5D-7E. */
const DESCRIPTION_CHARS = /^[\u0020-\u0021\u0023-\u005b\u005d-\u007e]*$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

/** Why an error answer is not an RFC 9457 problem of this app (null when it is). */
function notProblem(answer: Answer, head: boolean): string | null {
  if (!/^application\/problem\+json/.test(answer.headers['content-type'] ?? ''))
    return `content-type ${answer.headers['content-type']} is not application/problem+json`;
  if (
    answer.status === 401 &&
    !(answer.headers['www-authenticate'] ?? '').startsWith('Bearer realm="gatehouse"')
  )
    return 'a 401 problem without the WWW-Authenticate: Bearer realm="gatehouse" challenge';
  if (head) return null;
  const body = parseJson(answer.body) as Record<string, unknown> | undefined;
  const keys = body && typeof body === 'object' ? Object.keys(body).sort().join(',') : '';
  const members = keys.replace(',errors', '');
  if (members !== 'code,detail,requestId,status,title,type') return `problem members are "${keys}"`;
  if (keys.includes('errors') && (body?.code !== 'validation_failed' || !Array.isArray(body.errors)))
    return 'problem errors outside a validation_failed problem, or not a list';
  if (body?.status !== answer.status) return `problem status ${body?.status} differs from ${answer.status}`;
  if (body.type !== `urn:gatehouse:problem:${body.code}`)
    return `problem type ${body.type} does not match its code`;
  if (typeof body.detail !== 'string' || typeof body.title !== 'string')
    return 'problem detail or title is no string';
  if (typeof body.requestId !== 'string' || !UUID.test(body.requestId)) return 'problem requestId is no UUID';
  return null;
}

/** Why an error answer is not an RFC 6749 5.2 error (null when it is). */
function notOAuthError(answer: Answer, head: boolean): string | null {
  if (!/^application\/json/.test(answer.headers['content-type'] ?? ''))
    return `content-type ${answer.headers['content-type']} is not application/json`;
  if (!/no-store/.test(answer.headers['cache-control'] ?? '')) return 'no Cache-Control: no-store';
  if (head) return null;
  const body = parseJson(answer.body) as Record<string, unknown> | undefined;
  if (!body || typeof body !== 'object' || Array.isArray(body)) return 'the body is not a JSON object';
  const extra = Object.keys(body).filter((k) => !['error', 'error_description', 'error_uri'].includes(k));
  if (extra.length) return `unexpected members ${extra.join(', ')}`;
  const error = body.error;
  const allowed =
    answer.status === 429
      ? error === 'rate_limited' || OAUTH_ERRORS.has(String(error))
      : OAUTH_ERRORS.has(String(error));
  if (!allowed) return `error "${String(error)}" is not an RFC 6749 error code`;
  const description = body.error_description;
  if (description !== undefined && (typeof description !== 'string' || !DESCRIPTION_CHARS.test(description)))
    return `error_description ${JSON.stringify(description)} has characters RFC 6749 5.2 excludes`;
  if (
    error === 'invalid_client' &&
    (answer.status !== 401 || !/^Basic/i.test(answer.headers['www-authenticate'] ?? ''))
  )
    return 'invalid_client without 401 and WWW-Authenticate: Basic';
  return null;
}

/** Why an answer is not one of the server-rendered pages (null when it is). */
function notPage(answer: Answer): string | null {
  if (!/^text\/html/.test(answer.headers['content-type'] ?? ''))
    return `content-type ${answer.headers['content-type']} is not text/html`;
  if (!/default-src 'none'/.test(answer.headers['content-security-policy'] ?? ''))
    return "the page has no Content-Security-Policy with default-src 'none'";
  return null;
}

const FORMAT: Record<Family, (answer: Answer, head: boolean) => string | null> = {
  problem: notProblem,
  oauth: notOAuthError,
  page: (answer) => notPage(answer),
};

const STACK_TRACE = [
  /\bat (?:async )?(?:\S+ )?\(?(?:file:\/\/|node:|\/)[^\s)]*:\d+:\d+/,
  /node:internal/,
  /(?:^|[\s"'(=:])(?:[A-Za-z]:)?[\\/](?:[\w.@-]+[\\/])+[\w.-]+\.m?ts\b/,
];

/** Credentials the request carried: any `gsk_` string, the Bearer token, the Basic secret, the API key. */
function sentSecrets(request: WireRequest): string[] {
  const text = [request.target, ...request.headers.map(([, v]) => v), request.body?.toString('latin1') ?? ''];
  const found = new Set(text.join('\n').match(/gsk_[0-9A-Za-z]{8,}|pw-wrong-[0-9A-Za-z]{12}/g) ?? []);
  const credential = (value: string) => {
    // Only values that look like credentials: a word such as "constructor" may well appear elsewhere.
    if (value.length >= 20 && /[A-Z]/.test(value) && /[a-z]/.test(value) && /\d/.test(value))
      found.add(value);
  };
  for (const [name, value] of request.headers) {
    const key = name.toLowerCase();
    if (key === 'x-api-key') credential(value);
    if (key !== 'authorization') continue;
    const [scheme = '', rest = ''] = value.split(/ +(.*)/);
    if (/^bearer$/i.test(scheme)) credential(rest.trim());
    if (/^basic$/i.test(scheme))
      credential(Buffer.from(rest, 'base64').toString('utf8').split(':').slice(1).join(':'));
  }
  return [...found];
}

function locationProblem(
  request: WireRequest,
  sent: string,
  answer: Answer,
  live: LiveValues,
): string | null {
  const location = answer.headers.location;
  if (answer.status < 300 || answer.status >= 400) return null;
  if (location === undefined) return `a ${answer.status} without Location`;
  const base = live.get('ISSUER');
  const here = new URL(sent.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, '') || '/', base);
  const target = URL.parse(location, here.href);
  if (!target) return `Location ${JSON.stringify(location)} is not a URL`;
  const registered = REGISTERED_REDIRECTS.some((uri) => `${target.origin}${target.pathname}` === uri);
  if (target.origin !== new URL(base).origin && !registered)
    return `Location ${JSON.stringify(location)} leads off this server to an unregistered place (DESIGN.md 3 rule 4)`;
  if ((request.method === 'GET' || request.method === 'HEAD') && target.href === here.href)
    return `Location ${JSON.stringify(location)} redirects to the request itself (a redirect loop)`;
  return null;
}

/** Every rule the answer breaks, each as `[rule] what`. */
function violations(request: WireRequest, sent: string, answer: Answer, live: LiveValues): string[] {
  const found: string[] = [];
  const { status, headers } = answer;
  const head = request.method === 'HEAD';
  if (!(status >= 100 && status < 500)) found.push(`[5xx] status ${status}`);
  if (headers['x-content-type-options'] !== 'nosniff')
    found.push('[nosniff] no X-Content-Type-Options: nosniff');
  if (status === 429 && headers['retry-after'] === undefined)
    found.push('[retry-after] a 429 without Retry-After');
  if (/^text\/html/.test(headers['content-type'] ?? '') && !headers['content-security-policy'])
    found.push('[csp] an HTML answer without Content-Security-Policy');
  const everything = `${Object.entries(headers)
    .map(([n, v]) => `${n}: ${v}`)
    .join('\n')}\n\n${answer.body}`;
  for (const pattern of STACK_TRACE) {
    const match = pattern.exec(everything);
    if (match) found.push(`[stack] the answer shows internals: ${JSON.stringify(match[0])}`);
  }
  const secrets = new Map(live.secrets);
  for (const secret of sentSecrets(request))
    if (!secrets.has(secret)) secrets.set(secret, 'a credential it was sent');
  for (const [secret, name] of secrets) {
    const forms = [secret, encodeURIComponent(secret), encodeURIComponent(secret).replace(/%20/g, '+')];
    if (forms.some((form) => everything.includes(form))) found.push(`[secret] the answer echoes ${name}`);
  }
  const location = locationProblem(request, sent, answer, live);
  if (location) found.push(`[redirect] ${location}`);

  const expectation = expectationOf(request.method, sent);
  if (status >= 400 && status < 500) {
    const reasons = [...expectation.families].map((family) => FORMAT[family](answer, head));
    if (!reasons.includes(null))
      found.push(
        `[format] a ${status} not in the format of ${[...expectation.families].join(' or ')}: ${reasons.join('; ')}`,
      );
  } else if (expectation.strict === 'page' && status >= 300 && status < 400 && status !== 303) {
    found.push(`[format] a page redirect with ${status} instead of 303`);
  } else if (expectation.strict === 'page' && status < 300 && status !== 204) {
    const reason = notPage(answer);
    if (reason) found.push(`[format] a ${status} page: ${reason}`);
  } else if (
    expectation.strict === 'oauth' &&
    status === 200 &&
    !/no-store/.test(headers['cache-control'] ?? '')
  ) {
    found.push('[format] a 200 from an OAuth endpoint without Cache-Control: no-store (RFC 6749 5.1)');
  }
  return found;
}

// ---------------------------------------------------------------------------------------------------
// Reporting

/** A printable request: secrets named, long runs collapsed, control and non-ASCII characters escaped. */
function printable(request: WireRequest, live: LiveValues): string {
  const clean = (text: string) => {
    let out = text;
    for (const [secret, name] of live.secrets) out = out.split(secret).join(`{{${name}}}`);
    // Runs of one to four characters (`aaaa`, `%5B%5B`) print as «unit×count».
    out = out.replace(/(.{1,4}?)\1{9,}/gsu, (run, unit: string) => `«${unit}×${run.length / unit.length}»`);
    const shown = JSON.stringify(
      out.length > 600 ? `${out.slice(0, 600)}…(+${out.length - 600} chars)` : out,
    );
    return shown;
  };
  const lines = [`${request.method} ${clean(request.target)} (from ${request.remoteAddress})`];
  for (const [name, value] of request.headers) lines.push(`  ${name}: ${clean(value)}`);
  if (request.body)
    lines.push(`  body (${request.body.length} bytes): ${clean(request.body.toString('latin1'))}`);
  return lines.join('\n');
}

function describeAnswer(answer: Answer): string {
  const body = answer.body.length > 400 ? `${answer.body.slice(0, 400)}…` : answer.body;
  return `${answer.status} ${answer.headers['content-type'] ?? '(no content-type)'}${
    answer.headers.location ? ` Location: ${answer.headers.location}` : ''
  }\n  ${JSON.stringify(body)}`;
}

/** In survey mode: the smallest request seen for each distinct failure. */
const survey = new Map<string, { size: number; failure: string; request: string; answer: string }>();

function record(
  route: string,
  mode: string,
  request: WireRequest,
  answer: Answer,
  found: string[],
  live: LiveValues,
) {
  for (const failure of found) {
    const rule = failure.slice(0, failure.indexOf(']') + 1);
    const key = `${rule} ${route} ${request.method === 'HEAD' ? 'HEAD ' : ''}${answer.status} ${mode} ${
      answer.headers['content-type']?.split(';')[0] ?? '-'
    }`;
    const size = request.target.length + (request.body?.length ?? 0) + JSON.stringify(request.headers).length;
    const previous = survey.get(key);
    if (!previous || size < previous.size)
      survey.set(key, { size, failure, request: printable(request, live), answer: describeAnswer(answer) });
  }
}

// ---------------------------------------------------------------------------------------------------

describeEachDialect('fuzzed requests on every route', (dialect) => {
  const ctx = useSeededApp(dialect, UNLIMITED);
  let live: LiveValues;
  let sent = 0;
  let refused = 0;
  let port = 0;
  beforeAll(async () => {
    live = await liveValues(ctx.app, ctx.seed);
    // Also listening: the raw-socket tests need the exact bytes of a request-target to reach Fastify.
    await ctx.app.listen({ host: '127.0.0.1', port: 0 });
    port = (ctx.app.server.address() as { port: number }).port;
  });
  // Registered after useSeededApp's, so it runs before the app is closed (afterAll hooks run in reverse).
  afterAll(() => {
    if (SURVEY) writeFileSync(SURVEY.replace('%d', dialect), JSON.stringify([...survey.entries()], null, 2));
    survey.clear();
  });

  /** Sends one generated request and checks the answer; throws a readable report on a violation. */
  async function attack(request: FuzzRequest, mode: 'inject' | 'raw'): Promise<void> {
    const wire = build(request, live, mode);
    const target = mode === 'inject' ? injectedTarget(wire.target) : wire.target;
    // A target light-my-request cannot parse never reaches the app: not a case for this test.
    fc.pre(target !== null);
    const usesSession = wire.headers.some(([n, v]) => n === 'cookie' && v.includes(live.get('SESSION')));
    let answer: Answer;
    try {
      answer =
        mode === 'inject'
          ? await sendInject(ctx.app, wire)
          : await sendRaw(port, rawHead(wire), wire.body, wire.method);
    } catch (error) {
      answer = { status: 0, headers: {}, body: `no answer: ${(error as Error).message}` };
    }
    sent++;
    // What the HTTP parser refuses never reaches the router: the dedicated tests below cover it.
    if (mode === 'raw' && refusedByParser(answer)) {
      refused++;
      fc.pre(false);
    }
    // Signing in or out, or a logout (redirected or not), ends the signed-in browser's session: give it
    // a new one for later requests.
    if (
      usesSession &&
      ((answer.status === 303 && /sign-(in|out)/i.test(target ?? '')) || /end-?session/i.test(target ?? ''))
    )
      await live.renewSession();
    const found = violations(wire, target ?? '', answer, live);
    if (!found.length) return;
    if (SURVEY) return record(request.route, mode, wire, answer, found, live);
    throw new Error(
      `${found.join('\n')}\n\nrequest (${mode}, route ${request.route}):\n${printable(wire, live)}\n\nanswer:\n${describeAnswer(answer)}`,
    );
  }

  it('answers every generated request below 500, in its documented format, leaking nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fuzzRequest, (request) => attack(request, 'inject')),
      { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }) },
    );
  }, 300_000);

  it('answers the exact request-targets a raw socket sends (absolute form, dot segments) the same way', async () => {
    // Absolute-form targets are what inject cannot send: make most raw requests use one.
    const absolute = fuzzRequest.chain((request) =>
      fc
        .constantFrom(
          '',
          'http://127.0.0.1:8080',
          'http://evil.example',
          'HTTP://X',
          'https://evil.example:443',
        )
        .map((origin) => ({ ...request, path: origin + request.path })),
    );
    await fc.assert(
      fc.asyncProperty(absolute, (request) => attack(request, 'raw')),
      { numRuns: RAW_RUNS, ...(SEED === undefined ? {} : { seed: SEED }) },
    );
  }, 120_000);

  it.each([
    ['a raw UTF-8 byte in the path', 'POST /connect/t\u00c3\u00b6ken HTTP/1.1'],
    ['a raw UTF-8 byte in the query', 'GET /me?q=\u00c3\u00a9 HTTP/1.1'],
    ['a space in the request-target', 'GET /console/sign-in?return_to=/ x HTTP/1.1'],
    ['an unknown method', 'FROB /v1/workspaces HTTP/1.1'],
    ['a request line over 16 KiB', `GET /v1/workspaces?q=${'a'.repeat(17_000)} HTTP/1.1`],
  ])(
    'answers %s, which the HTTP parser refuses, with nosniff and a documented format',
    async (_name, line) => {
      const wire: WireRequest = {
        method: 'GET',
        target: line,
        headers: [],
        body: null,
        remoteAddress: '127.0.0.1',
      };
      const head = Buffer.from(`${line}\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`, 'latin1');
      const answer = await sendRaw(port, head, null, 'GET');
      sent++;
      const found = violations(wire, line.split(' ')[1] ?? '/', answer, live);
      expect(found, `${line.slice(0, 80)}\n${describeAnswer(answer)}`).toEqual([]);
    },
  );

  it('still serves /healthz and an API key after the run, also 50 requests at once', async () => {
    expect((await ctx.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    const me = () =>
      ctx.app.inject({ method: 'GET', url: '/me', headers: { 'x-api-key': live.get('KEY_A') } });
    expect((await me()).statusCode).toBe(200);
    expect(countStatuses(await releaseMany(50, me))).toEqual({ 200: 50 });
    console.info(`fuzz [${dialect}]: ${sent} requests sent, ${refused} of them refused by the HTTP parser`);
  });
});
