import { crc32 } from 'node:zlib';
import fc from 'fast-check';

/**
 * Generators of hostile HTTP requests for the whole app (DESIGN.md 3 rule 10). A generated request is
 * a plain description: it names live values (keys, tokens, the session) by placeholder, `{{KEY_A}}`,
 * resolved only when it is sent, so that a counterexample prints without secrets and replays against
 * a fresh seed. Long values are `{ repeat, count }`, so that a 64 KiB body prints in one line.
 */
export type Placeholder =
  | 'KEY_A'
  | 'KEY_WS'
  | 'KEY_B'
  | 'PUB_A'
  | 'PUB_WS'
  | 'PUB_B'
  | 'ACCESS_A'
  | 'ACCESS_WS'
  | 'ACCESS_USER'
  | 'REFRESH'
  | 'ID_TOKEN'
  | 'CODE'
  | 'VERIFIER'
  | 'CHALLENGE'
  | 'SESSION'
  | 'CSRF_COOKIE'
  | 'CSRF_ANON'
  | 'CSRF_SIGNED'
  | 'WS_MAIN'
  | 'WS_SECOND'
  | 'WS_B'
  | 'ENTITY'
  | 'PASSWORD'
  | 'EMAIL_A'
  | 'EMAIL_B'
  | 'REDIRECT'
  | 'ISSUER';

const ph = (name: Placeholder): string => `{{${name}}}`;

/** `count` copies of `repeat`. */
export interface Repeat {
  repeat: string;
  count: number;
}
/** Text that may contain placeholders, or a long repetition. */
export type Value = string | Repeat;

/** How a parameter is written: percent-encoded (RFC 3986), form-encoded (`+` for space), or verbatim. */
export type Encoding = 'component' | 'plus' | 'raw';
export interface Param {
  name: Value;
  value: Value;
  encoding: Encoding;
}

export type Body =
  | { kind: 'form'; params: Param[] }
  /** JSON of `value`; strings may hold placeholders, `{ $repeat, count }` objects are long strings. */
  | { kind: 'json'; value: unknown }
  /** `open` × depth, `inner`, then `close` × depth when balanced: `[[[…]]]`, `{"a":{"a":…` */
  | { kind: 'nested'; open: string; close: string; inner: string; depth: number; balanced: boolean }
  /** Raw bytes: text (UTF-8) and byte runs, for invalid UTF-8 and NUL. */
  | { kind: 'bytes'; segments: (Value | { bytes: number[] })[] };

export type HeaderValue =
  | Value
  /** `Basic base64(id:secret)`, written in one of several shapes. */
  | { basic: [Value, Value]; style: 'standard' | 'form-encoded' | 'lowercase' | 'spaces' | 'unpadded' }
  /** `Basic` + base64 of arbitrary bytes (invalid UTF-8, no colon). */
  | { basicBytes: number[] };

export type PathMutation =
  /** Upper-cases the characters whose position's bit is set in `mask`. */
  | { op: 'case'; mask: number }
  /** Percent-encodes the character at `at` (modulo the length). */
  | { op: 'encode'; at: number; upper: boolean }
  | { op: 'insert'; at: number; text: string }
  | { op: 'append'; text: string }
  /** An absolute-form request-target (RFC 9112 3.2.2) or a network-path prefix. */
  | { op: 'prefix'; text: string };

export interface FuzzRequest {
  /** The route the request was derived from (before mutation), to group failures. */
  route: string;
  method: string;
  path: string;
  mutations: PathMutation[];
  query: Param[];
  /** Appended verbatim after the query: `&&=&`, `%zz`, `#fragment`. */
  rawQuery: string;
  headers: [string, HeaderValue][];
  body: Body | null;
  remoteAddress: string;
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function base62Fixed(value: number, width: number): string {
  let out = '';
  for (let v = value; v > 0; v = Math.floor(v / 62)) out = BASE62[v % 62] + out;
  return out.padStart(width, '0');
}

/** A private key in the documented format (DESIGN.md 1) with a valid checksum: it reaches the lookup. */
export function wellFormedKey(body43: string): string {
  const head = `gsk_${body43}`;
  return head + base62Fixed(crc32(head), 6);
}

const base62 = (length: number) =>
  fc.string({ unit: fc.constantFrom(...BASE62), minLength: length, maxLength: length });
const repeat = (unit: string, count: number): Repeat => ({ repeat: unit, count });

/** Lengths around every limit of the app: headers, router params, form and JSON body limits. */
const LONG = [101, 255, 1024, 4096, 8193, 16_383, 16_384, 16_385, 65_535, 65_536, 70_000];
const long = fc.record({
  repeat: fc.constantFrom('a', 'é', '%', '\u0000', '🚀', '[', '&', '9'),
  count: fc.constantFrom(...LONG),
});

const HOSTILE = [
  '',
  ' ',
  '0',
  '-1',
  '1.5',
  '1e309',
  'Infinity',
  'NaN',
  '9007199254740993',
  'true',
  'null',
  '[]',
  '{}',
  '%00',
  '%zz',
  '%',
  '%C3%28',
  '%ED%A0%80',
  '%FF',
  '%E0%A4%A',
  '\u0000',
  'a\u0000b',
  "' OR 1=1 --",
  '"; DROP TABLE api_keys; --',
  '<script>alert(1)</script>',
  '"><svg onload=alert(1)>',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template-injection probe, meant literally.
  '${7*7}',
  '{{7*7}}',
  '../../etc/passwd',
  '__proto__',
  'constructor',
  'toString',
  'Zürich',
  'İstanbul',
  'ſ',
  '\u212a',
  '数据',
  '🚀',
  '\u202egnp.exe',
  '\ufeff',
  '\ud800',
  'a\udfffb',
  'a\r\nX-Injected: 1',
  '\t',
  '\\',
  '//evil.example',
  'javascript:alert(1)',
];

/** Values no route expects: numbers out of range, injections, unicode, broken encodings, huge. */
export const hostile: fc.Arbitrary<Value> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...HOSTILE) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 10 }) },
  { weight: 1, arbitrary: long },
);

const biased = (valid: fc.Arbitrary<Value>, weight = 8) =>
  fc.oneof({ weight, arbitrary: valid }, { weight: 1, arbitrary: hostile });

/** Private keys: the seeded ones, well-formed unknown ones, broken checksums, wrong shapes. */
export const privateKey: fc.Arbitrary<Value> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(ph('KEY_A'), ph('KEY_WS'), ph('KEY_B')) },
  { weight: 3, arbitrary: base62(43).map(wellFormedKey) },
  { weight: 2, arbitrary: base62(49).map((body) => `gsk_${body}`) },
  { weight: 1, arbitrary: fc.constantFrom('gsk_', `gsk_${'a'.repeat(10_000)}`, ` ${ph('KEY_A')} `) },
  { weight: 1, arbitrary: hostile },
);

const publicKey: fc.Arbitrary<Value> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(ph('PUB_A'), ph('PUB_WS'), ph('PUB_B')) },
  { weight: 2, arbitrary: base62(24).map((body) => `gpk_${body}`) },
  { weight: 1, arbitrary: hostile },
);

const jwtLike = fc.constantFrom(
  `${ph('ACCESS_A')}x`,
  // {"alg":"none","typ":"at+jwt"} with an api1 audience and no signature (DESIGN.md 3 rule 7).
  'eyJhbGciOiJub25lIiwidHlwIjoiYXQrand0In0.eyJhdWQiOiJhcGkxIiwic3ViIjoieCIsImV4cCI6OTk5OTk5OTk5OX0.',
  'eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl',
  'a.b.c',
);

/** Bearer tokens and the other opaque credentials: live ones, tampered, garbage. */
const token: fc.Arbitrary<Value> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom(ph('ACCESS_A'), ph('ACCESS_WS'), ph('ACCESS_USER'), ph('REFRESH')),
  },
  { weight: 2, arbitrary: jwtLike },
  { weight: 2, arbitrary: fc.base64String({ minLength: 20, maxLength: 120 }) },
  { weight: 1, arbitrary: privateKey },
  { weight: 1, arbitrary: hostile },
);

const b64 = (text: string) => Buffer.from(text).toString('base64');

/** Authorization header values: Bearer and Basic, well-formed or not. */
export const authorization: fc.Arbitrary<HeaderValue> = fc.oneof(
  { weight: 4, arbitrary: token.map((t) => (typeof t === 'string' ? `Bearer ${t}` : t)) },
  {
    weight: 4,
    arbitrary: fc.record({
      basic: fc.tuple(publicKey, privateKey),
      style: fc.constantFrom('standard', 'standard', 'form-encoded', 'lowercase', 'spaces', 'unpadded'),
    }),
  },
  { weight: 1, arbitrary: fc.record({ basicBytes: fc.array(fc.nat(255), { maxLength: 40 }) }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      'Bearer',
      'Bearer ',
      'Bearer a b',
      'bearer  x',
      'Basic',
      'Basic !!!',
      'Basic ====',
      `Basic ${b64(':')}`,
      `Basic ${b64('nocolon')}`,
      `Basic ${b64('%zz:%zz')}`,
      `Basic ${b64(':secret')}`,
      `Basic ${b64('id:')}`,
      `Basic ${'A'.repeat(20_000)}`,
      'Digest username="x"',
      `Bearer ${'a'.repeat(10_000)}`,
      `Bearer ${ph('KEY_A')}`,
    ),
  },
  { weight: 1, arbitrary: hostile },
);

const cookie: fc.Arbitrary<Value> = fc.constantFrom(
  `gatehouse-session=${ph('SESSION')}`,
  `gatehouse-csrf=${ph('CSRF_COOKIE')}`,
  'gatehouse-session=gss_forged; gatehouse-csrf=forged',
  'gatehouse-session=%zz',
  `gatehouse-csrf=${'A'.repeat(43)}`,
  `__Host-gatehouse-session=${ph('SESSION')}`,
  'a=b; a=c; ;;; =; gatehouse-session',
  `gatehouse-session=${'x'.repeat(8000)}`,
);

/** Which browser sends the request: none, a fresh one (CSRF cookie only), the signed-in one, a forged one. */
export type BrowserState = 'none' | 'anonymous' | 'signed-in' | 'forged';
const browserState = fc.constantFrom<BrowserState>('none', 'anonymous', 'signed-in', 'signed-in', 'forged');

function cookiesOf(state: BrowserState): string | null {
  if (state === 'anonymous') return `gatehouse-csrf=${ph('CSRF_COOKIE')}`;
  if (state === 'signed-in') return `gatehouse-session=${ph('SESSION')}; gatehouse-csrf=${ph('CSRF_COOKIE')}`;
  if (state === 'forged') return 'gatehouse-session=gss_forged; gatehouse-csrf=forged';
  return null;
}

const csrfFor = (state: BrowserState): fc.Arbitrary<Value> =>
  fc.oneof(
    { weight: 6, arbitrary: fc.constant(state === 'signed-in' ? ph('CSRF_SIGNED') : ph('CSRF_ANON')) },
    { weight: 2, arbitrary: fc.constantFrom(ph('CSRF_ANON'), ph('CSRF_SIGNED'), 'forged') },
    { weight: 1, arbitrary: hostile },
  );

const CALLBACK = encodeURIComponent('https://app.example/callback');
/** Where a sign-in returns to: the authorization endpoint, with unicode, broken escapes, traversal. */
const authorizeReturnTo = fc
  .tuple(
    fc.constantFrom(
      `/connect/authorize?response_type=code&client_id=${ph('PUB_A')}&redirect_uri=${CALLBACK}&scope=api1`,
      `/connect/authorize?client_id=${ph('PUB_A')}`,
      '/connect/authorize?',
      '/connect/authorize/../../evil?',
    ),
    fc.constantFrom(
      '',
      '&state=xyz',
      '&state=é',
      '&state=数据🚀',
      '&x=%zz',
      '&x=%C3%28',
      '&x=\u00ff',
      '&x=İ',
    ),
  )
  .map(([path, extra]) => path + extra);

/** Plausible values per parameter name, each also tried with hostile ones. */
const VALUES: Record<string, fc.Arbitrary<Value>> = {
  page: biased(fc.constantFrom('1', '2', '0', '1000000', '1000001')),
  size: biased(fc.constantFrom('1', '50', '500', '501', '0')),
  q: biased(fc.constantFrom('Main', 'a', '%', '_', 'Sec')),
  sortBy: biased(fc.constantFrom('label', 'id', 'createdAt', 'secret_hash', 'label desc')),
  asc: biased(fc.constantFrom('true', 'false', '1', '0')),
  grant_type: biased(
    fc.constantFrom('client_credentials', 'authorization_code', 'refresh_token', 'password', 'implicit'),
  ),
  scope: biased(fc.constantFrom('api1', 'api1 offline_access', 'offline_access', 'openid', 'api1  api1', '')),
  client_id: biased(publicKey),
  client_secret: privateKey,
  code: biased(fc.constantFrom(ph('CODE'), 'gco_forged', `${ph('CODE')}x`)),
  redirect_uri: biased(
    fc.constantFrom(
      ph('REDIRECT'),
      'https://app.example/callback/',
      'https://app.example/callback?x=1',
      'HTTPS://APP.EXAMPLE/callback',
      'https://app.example/callback#x',
      'https://evil.example/callback',
      'https://app.example.evil.example/callback',
      'http://app.example/callback',
    ),
  ),
  code_verifier: biased(fc.constantFrom(ph('VERIFIER'), 'short', 'a'.repeat(129))),
  refresh_token: token,
  token,
  token_type_hint: biased(fc.constantFrom('access_token', 'refresh_token', 'id_token')),
  response_type: biased(fc.constantFrom('code', 'token', 'code id_token', 'CODE')),
  state: biased(fc.constantFrom('xyz', 'é', '数据🚀', 'a b&c=d', '"quoted"')),
  code_challenge: biased(fc.constantFrom(ph('CHALLENGE'), 'short', 'a'.repeat(43), 'a'.repeat(129))),
  code_challenge_method: biased(fc.constantFrom('S256', 'plain', 's256', 'S512')),
  prompt: biased(fc.constantFrom('none', 'login', 'consent', 'none login', 'select_account')),
  response_mode: biased(fc.constantFrom('query', 'fragment', 'form_post')),
  nonce: biased(fc.constantFrom('n-0S6_WzA2Mj')),
  decision: biased(fc.constantFrom('allow', 'deny', 'maybe')),
  return_to: biased(
    fc.oneof(
      { weight: 3, arbitrary: authorizeReturnTo },
      fc.constantFrom(
        '/console',
        '//evil.example',
        '/\\evil.example',
        'https://evil.example',
        '/console/../x',
      ),
    ),
  ),
  reason: biased(fc.constantFrom('not_member', 'signed_out')),
  id_token_hint: biased(fc.constantFrom(ph('ID_TOKEN'), `${ph('ID_TOKEN')}x`, ph('ACCESS_USER'), 'a.b.c')),
  post_logout_redirect_uri: biased(
    fc.constantFrom(ph('REDIRECT'), 'https://evil.example/', '//evil.example', 'javascript:alert(1)'),
  ),
  logout_hint: biased(fc.constantFrom(ph('EMAIL_A'), 'x')),
  ui_locales: biased(fc.constantFrom('fr', 'en-US fr', '')),
};

/** Names no route expects, including ones that poison objects. */
const STRAY_NAMES = ['__proto__', 'constructor', 'a[]', 'a[b]', '', 'x'.repeat(100), '%zz', 'é', 'toString'];

const encoding = fc.constantFrom<Encoding>('component', 'component', 'component', 'plus', 'raw');

function paramOf(name: string): fc.Arbitrary<Param> {
  const value = VALUES[name] ?? hostile;
  return fc.record({ name: fc.constant(name), value, encoding });
}

/**
 * A parameter list over `names`: each present with a good chance and usually valid (so that requests
 * reach deep into the handlers), sometimes repeated, with stray names added.
 */
function params(
  names: string[],
  fixed: Partial<Record<string, fc.Arbitrary<Value>>> = {},
  presence = 4,
): fc.Arbitrary<Param[]> {
  const each = names.map((name) => {
    const value = fixed[name] ?? VALUES[name] ?? hostile;
    const param: fc.Arbitrary<Param> = fc.record({ name: fc.constant<Value>(name), value, encoding });
    // fast-check leaves a parameter out once in `presence` times.
    return fc.option(param, { freq: presence, nil: null });
  });
  const stray = fc.array(
    fc.oneof(
      fc.constantFrom(...names).chain(paramOf),
      fc.record({ name: fc.constantFrom(...STRAY_NAMES), value: hostile, encoding }),
    ),
    { maxLength: 2 },
  );
  return fc
    .tuple(
      fc.tuple(...each),
      fc.oneof({ weight: 3, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: stray }),
    )
    .map(([present, extra]) => [...present.filter((p): p is Param => p !== null), ...extra]);
}

const NAMES = {
  list: ['page', 'size', 'q', 'sortBy', 'asc'],
  token: [
    'grant_type',
    'scope',
    'client_id',
    'client_secret',
    'code',
    'redirect_uri',
    'code_verifier',
    'refresh_token',
  ],
  authorize: [
    'response_type',
    'client_id',
    'redirect_uri',
    'scope',
    'state',
    'code_challenge',
    'code_challenge_method',
    'prompt',
    'response_mode',
    'nonce',
  ],
  endSession: [
    'id_token_hint',
    'client_id',
    'post_logout_redirect_uri',
    'state',
    'logout_hint',
    'ui_locales',
  ],
};

/** The authorize parameters, mostly those of the seeded client with its registered redirect URI. */
const authorizeParams = params(NAMES.authorize, {
  response_type: biased(fc.constant('code'), 8),
  client_id: biased(fc.constant(ph('PUB_A')), 8),
  redirect_uri: biased(fc.constant(ph('REDIRECT')), 8),
  code_challenge: biased(fc.constant(ph('CHALLENGE')), 8),
  code_challenge_method: biased(fc.constant('S256'), 8),
});

/** RP-initiated logout parameters, mostly with the live ID token of the signed-in user as hint. */
const endSessionParams = params(NAMES.endSession, {
  id_token_hint: biased(fc.constant(ph('ID_TOKEN')), 6),
  client_id: biased(fc.constantFrom(ph('PUB_A'), ph('PUB_B')), 6),
});

/** An access token where RFC 6750 2.2 and 2.3 allow it and DESIGN.md 1 does not: the form or the query. */
const tokenElsewhere = params(['access_token'], { access_token: biased(fc.constant(ph('ACCESS_USER'))) });

// Wrong passwords carry a marker, so that the oracle can tell whether one was echoed.
const wrongPassword = base62(12).map((p) => `pw-wrong-${p}`);

/**
 * Sign-in forms, mostly with the right password: wrong ones go mostly to other accounts, so that the
 * per-account budget (DESIGN.md 3 rule 8) rarely locks the account the run signs in with.
 */
const signInParams: fc.Arbitrary<Param[]> = fc
  .tuple(
    fc.oneof(
      {
        weight: 6,
        arbitrary: fc.tuple(fc.constantFrom(ph('EMAIL_A'), 'OWNER@A.test'), fc.constant(ph('PASSWORD'))),
      },
      { weight: 3, arbitrary: fc.tuple(fc.constantFrom(ph('EMAIL_B'), 'nobody@a.test'), wrongPassword) },
      { weight: 1, arbitrary: fc.tuple(fc.constant(ph('EMAIL_A')), wrongPassword) },
      { weight: 1, arbitrary: fc.tuple(hostile, hostile) },
    ),
    params(['return_to'], {}, 8),
    encoding,
  )
  .map(([[email, password], returnTo, how]): Param[] => [
    { name: 'email', value: email, encoding: how },
    { name: 'password', value: password, encoding: how },
    ...returnTo,
  ]);

const csrfParam = (state: BrowserState) =>
  fc.option(fc.record({ name: fc.constant('csrf_token'), value: csrfFor(state), encoding }), {
    freq: 6,
    nil: null,
  });

const withCsrf = (state: BrowserState, rest: fc.Arbitrary<Param[]>) =>
  fc.tuple(csrfParam(state), rest).map(([csrf, others]) => (csrf ? [csrf, ...others] : others));

/** A JSON value built from parameters: what a client posting JSON instead of a form would send. */
function jsonOf(list: Param[]): unknown {
  const object: Record<string, unknown> = {};
  for (const { name, value } of list) {
    const key = typeof name === 'string' ? name : name.repeat;
    object[key] = typeof value === 'string' ? value : { $repeat: value.repeat, count: value.count };
  }
  return object;
}

/** Bodies that break parsers: deep nesting, sizes at the limits, invalid UTF-8, NUL, odd JSON. */
const nastyBody: fc.Arbitrary<Body> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .record({
        brackets: fc.constantFrom<[string, string]>(
          ['[', ']'],
          ['{"a":', '}'],
          ['[{"a":', '}]'],
          ['{"a":[', ']}'],
        ),
        inner: fc.constantFrom('', '1', '"x"', '{}'),
        depth: fc.constantFrom(100, 1000, 5000, 10_000, 20_000, 30_000),
        balanced: fc.boolean(),
      })
      .map(({ brackets: [open, close], ...rest }): Body => ({ kind: 'nested', open, close, ...rest })),
  },
  fc
    .record({
      name: fc.constantFrom('name', 'email', 'client_id', 'x'),
      count: fc.constantFrom(16_370, 16_384, 65_500, 65_520, 65_536, 70_000),
      json: fc.boolean(),
    })
    .map(
      ({ name, count, json }): Body =>
        json
          ? { kind: 'json', value: { [name]: { $repeat: 'a', count } } }
          : { kind: 'form', params: [{ name, value: repeat('a', count), encoding: 'raw' }] },
    ),
  fc.constantFrom<Body>(
    { kind: 'bytes', segments: ['{"name":"', { bytes: [0xc3, 0x28] }, '"}'] },
    { kind: 'bytes', segments: ['{"name":"a', { bytes: [0x00] }, 'b"}'] },
    { kind: 'bytes', segments: ['name=', { bytes: [0xff, 0xfe, 0x00, 0xed, 0xa0, 0x80] }] },
    { kind: 'bytes', segments: [{ bytes: [0xef, 0xbb, 0xbf] }, '{"name":"bom"}'] },
    { kind: 'bytes', segments: ['{"name":"x","name":"y"}'] },
    { kind: 'bytes', segments: ['{"__proto__":{"admin":true},"name":"x"}'] },
    { kind: 'bytes', segments: ['{"name":1e309}'] },
    { kind: 'bytes', segments: ['{"name":'] },
    { kind: 'bytes', segments: ['"just a string"'] },
    { kind: 'bytes', segments: ['null'] },
    { kind: 'bytes', segments: ['a=1&a=2&a=3&=&&&b'] },
    { kind: 'bytes', segments: [repeat('a=1&', 3000)] },
    { kind: 'bytes', segments: ['%zz=%zz&%C3%28=%ED%A0%80'] },
    { kind: 'bytes', segments: [''] },
  ),
  fc.jsonValue({ maxDepth: 3 }).map((value): Body => ({ kind: 'json', value })),
  fc.array(fc.nat(255), { maxLength: 64 }).map((bytes): Body => ({ kind: 'bytes', segments: [{ bytes }] })),
);

/** A body of the route's own kind most of the time, written as a form or as JSON, else a nasty one. */
const bodyOf = (list: fc.Arbitrary<Param[]>): fc.Arbitrary<Body> =>
  fc.oneof(
    { weight: 12, arbitrary: list.map((p): Body => ({ kind: 'form', params: p })) },
    { weight: 1, arbitrary: list.map((p): Body => ({ kind: 'json', value: jsonOf(p) })) },
    { weight: 3, arbitrary: nastyBody },
  );

const KEY_PAIRS = [
  [ph('PUB_A'), ph('KEY_A')],
  [ph('PUB_WS'), ph('KEY_WS')],
  [ph('PUB_B'), ph('KEY_B')],
] as const;
const keyPair = fc.constantFrom(...KEY_PAIRS);

/** client_secret_post credentials (RFC 6749 2.3.1), usually absent: Basic is the common method. */
const postedClient: fc.Arbitrary<Param[]> = fc.oneof(
  { weight: 6, arbitrary: fc.constant<Param[]>([]) },
  {
    weight: 4,
    arbitrary: keyPair.map(([id, secret]): Param[] => [
      { name: 'client_id', value: id, encoding: 'component' },
      { name: 'client_secret', value: secret, encoding: 'component' },
    ]),
  },
  { weight: 1, arbitrary: params(['client_id', 'client_secret']) },
);

const grant = (type: string, names: string[], fixed: Partial<Record<string, fc.Arbitrary<Value>>>) =>
  params(['grant_type', ...names], { grant_type: biased(fc.constant(type), 12), ...fixed }, 12);

/** Token requests of each grant, mostly coherent so that they reach the grant's own checks. */
const tokenParams: fc.Arbitrary<Param[]> = fc
  .tuple(
    fc.oneof(
      grant('client_credentials', ['scope'], {
        scope: biased(fc.constantFrom('api1', 'api1', 'offline_access')),
      }),
      grant('authorization_code', ['code', 'redirect_uri', 'code_verifier'], {
        code: biased(fc.constant(ph('CODE'))),
        redirect_uri: biased(fc.constant(ph('REDIRECT'))),
        code_verifier: biased(fc.constant(ph('VERIFIER'))),
      }),
      grant('refresh_token', ['refresh_token', 'scope'], {
        refresh_token: biased(fc.constant(ph('REFRESH'))),
        scope: biased(fc.constantFrom('api1', 'api1 offline_access')),
      }),
      params(NAMES.token),
    ),
    postedClient,
  )
  .map(([grantParams, client]) => [...grantParams, ...client]);

const tokenParamParams: fc.Arbitrary<Param[]> = fc
  .tuple(params(['token', 'token_type_hint'], {}, 12), postedClient)
  .map(([tokenParam, client]) => [...tokenParam, ...client]);

const entityBody: fc.Arbitrary<Body> = fc.oneof(
  {
    weight: 5,
    arbitrary: biased(fc.constant('Fuzzed entity')).map(
      (name): Body => ({ kind: 'json', value: jsonOf([{ name: 'name', value: name, encoding: 'raw' }]) }),
    ),
  },
  {
    weight: 1,
    arbitrary: fc.record({ name: hostile, extra: hostile }).map((value): Body => ({ kind: 'json', value })),
  },
  { weight: 3, arbitrary: nastyBody },
);

const workspaceId = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(ph('WS_MAIN'), ph('WS_SECOND'), ph('WS_B')) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '0',
      '-1',
      '1.5',
      '1e3',
      '99999999999',
      '9007199254740993',
      'abc',
      '%20',
      '%00',
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom('0x1', 'Infinity', '１', '9'.repeat(120), '1%2F2') },
);
const entityId = fc.oneof(
  { weight: 3, arbitrary: fc.constant(ph('ENTITY')) },
  { weight: 1, arbitrary: fc.constantFrom('0', '-1', 'abc', '1e309', '9'.repeat(120)) },
);

/** One route of the app: how to make its path, its usual method(s), query and body. */
interface RouteSpec {
  route: string;
  methods: string[];
  path: fc.Arbitrary<string>;
  query?: fc.Arbitrary<Param[]>;
  body?: (state: BrowserState) => fc.Arbitrary<Body>;
  /** Credential headers; by default any (valid, wrong, malformed or none). */
  credentials?: () => fc.Arbitrary<[string, HeaderValue][]>;
  weight: number;
}

const at = (path: string) => fc.constant(path);
const listQuery = params(NAMES.list);

const ROUTES: RouteSpec[] = [
  { credentials: () => restCredentials, route: 'GET /me', methods: ['GET'], path: at('/me'), weight: 4 },
  {
    credentials: () => restCredentials,
    route: 'GET /v1/workspaces',
    methods: ['GET'],
    path: at('/v1/workspaces'),
    query: listQuery,
    weight: 5,
  },
  {
    credentials: () => restCredentials,
    route: 'GET /v1/workspaces/:id',
    methods: ['GET'],
    path: workspaceId.map((id) => `/v1/workspaces/${id}`),
    weight: 4,
  },
  {
    credentials: () => restCredentials,
    route: 'GET|POST /v1/workspaces/:id/entities',
    methods: ['GET', 'POST'],
    path: workspaceId.map((id) => `/v1/workspaces/${id}/entities`),
    query: listQuery,
    body: () => entityBody,
    weight: 5,
  },
  {
    credentials: () => restCredentials,
    route: 'DELETE /v1/workspaces/:id/entities/:entityId',
    methods: ['DELETE'],
    path: fc.tuple(workspaceId, entityId).map(([ws, e]) => `/v1/workspaces/${ws}/entities/${e}`),
    weight: 2,
  },
  {
    credentials: () => restCredentials,
    route: 'GET /v1/audit-events',
    methods: ['GET'],
    path: at('/v1/audit-events'),
    query: listQuery,
    weight: 2,
  },
  {
    credentials: () => restCredentials,
    route: 'GET /rate-limiting-state',
    methods: ['GET'],
    path: at('/rate-limiting-state'),
    weight: 1,
  },
  {
    route: 'GET /status|/healthz|/metrics',
    methods: ['GET'],
    path: fc.constantFrom('/status', '/healthz', '/metrics'),
    weight: 2,
  },
  {
    route: 'GET /.well-known/*',
    methods: ['GET'],
    path: fc.constantFrom(
      '/.well-known/openid-configuration',
      '/.well-known/oauth-authorization-server',
      '/.well-known/openid-configuration/jwks',
    ),
    weight: 2,
  },
  {
    route: 'POST /connect/token',
    methods: ['POST'],
    path: at('/connect/token'),
    body: () => bodyOf(tokenParams),
    credentials: () => clientCredentials,
    weight: 10,
  },
  {
    route: 'POST /connect/revocation|introspect',
    methods: ['POST'],
    path: fc.constantFrom('/connect/revocation', '/connect/introspect'),
    body: () => bodyOf(tokenParamParams),
    credentials: () => clientCredentials,
    weight: 7,
  },
  {
    route: 'GET|POST /connect/authorize',
    methods: ['GET', 'GET', 'POST'],
    path: at('/connect/authorize'),
    query: authorizeParams,
    body: () => bodyOf(authorizeParams),
    weight: 9,
  },
  {
    route: 'GET|POST /connect/userinfo',
    methods: ['GET', 'GET', 'POST'],
    path: at('/connect/userinfo'),
    // Mostly nothing: the token belongs in the Authorization header, which these place elsewhere too.
    query: fc.oneof(
      { weight: 3, arbitrary: fc.constant<Param[]>([]) },
      { weight: 1, arbitrary: tokenElsewhere },
    ),
    body: () =>
      fc.oneof(
        { weight: 3, arbitrary: bodyOf(fc.constant([])) },
        { weight: 1, arbitrary: bodyOf(tokenElsewhere) },
      ),
    credentials: () => restCredentials,
    weight: 4,
  },
  {
    route: 'GET|POST /connect/endsession',
    methods: ['GET', 'GET', 'POST'],
    path: at('/connect/endsession'),
    query: endSessionParams,
    body: () => bodyOf(endSessionParams),
    weight: 4,
  },
  {
    route: 'POST /console/end-session',
    methods: ['POST'],
    path: at('/console/end-session'),
    body: (state) => bodyOf(withCsrf(state, endSessionParams)),
    weight: 2,
  },
  { route: 'GET /console', methods: ['GET'], path: at('/console'), weight: 2 },
  {
    route: 'GET|POST /console/sign-in',
    methods: ['GET', 'POST', 'POST'],
    path: at('/console/sign-in'),
    query: params(['return_to', 'reason']),
    body: (state) => bodyOf(withCsrf(state, signInParams)),
    weight: 7,
  },
  {
    route: 'POST /console/consent',
    methods: ['POST'],
    path: at('/console/consent'),
    body: (state) =>
      bodyOf(
        withCsrf(
          state,
          fc.tuple(authorizeParams, params(['decision'])).map(([a, d]) => [...a, ...d]),
        ),
      ),
    weight: 5,
  },
  {
    route: 'POST|DELETE /console/consents/:publicKey',
    methods: ['POST', 'DELETE'],
    path: fc
      .tuple(publicKey, fc.boolean())
      .map(
        ([key, form]) => `/console/consents/${typeof key === 'string' ? key : 'x'}${form ? '/revoke' : ''}`,
      ),
    body: (state) => bodyOf(withCsrf(state, fc.constant([]))),
    weight: 3,
  },
  {
    route: 'POST /console/sign-out',
    methods: ['POST'],
    path: at('/console/sign-out'),
    body: (state) => bodyOf(withCsrf(state, fc.constant([]))),
    weight: 2,
  },
  {
    // The organization's console: tenant 1 is A (the session's), 2 is B; the rest no organization.
    route: 'GET|POST /o/:tenantId/…',
    methods: ['GET', 'GET', 'POST'],
    path: fc
      .tuple(
        fc.constantFrom('1', '2', '0', '01', 'x', '99999999999'),
        fc.oneof(
          fc.constantFrom(
            '',
            '/api-keys',
            '/api-keys/new',
            '/workspaces',
            '/workspaces/new',
            '/members',
            '/members/new',
            '/audit',
          ),
          publicKey.map((k) => `/api-keys/${typeof k === 'string' ? k : 'x'}`),
          // Never A's own keys: the run's last check still needs them alive.
          fc
            .tuple(
              fc.oneof(
                fc.constant(ph('PUB_B')),
                base62(24).map((b) => `gpk_${b}`),
                hostile,
              ),
              fc.constantFrom('/revoke', '/rotate'),
            )
            .map(([k, a]) => `/api-keys/${typeof k === 'string' ? k : 'x'}${a}`),
          fc
            .tuple(workspaceId, fc.constantFrom('', '/archive', '/restore'))
            .map(([w, a]) => `/workspaces/${typeof w === 'string' ? w : 'x'}${a}`),
          fc
            .tuple(fc.constantFrom('1', '2', '3', '0', 'x'), fc.constantFrom('', '/remove'))
            .map(([u, a]) => `/members/${u}${a}`),
        ),
      )
      .map(([tenant, rest]) => `/o/${tenant}${rest}`),
    query: params(['q', 'status', 'page', 'action', 'actor', 'from', 'to', 'done']),
    body: (state) =>
      bodyOf(
        withCsrf(
          state,
          params([
            'label',
            'scope',
            'permissions',
            'redirectUris',
            'corsOrigins',
            'expiresOn',
            'grace',
            'email',
            'role',
            'password',
            'workspaceIds',
          ]),
        ),
      ),
    weight: 6,
  },
  { route: 'GET /', methods: ['GET'], path: at('/'), weight: 1 },
  {
    route: 'GET /console/static/console.css',
    methods: ['GET'],
    path: at('/console/static/console.css'),
    weight: 1,
  },
  {
    route: 'GET /swagger/*',
    methods: ['GET'],
    path: fc.constantFrom(
      '/swagger',
      '/swagger/',
      '/swagger/index.html',
      '/swagger/static/index.html',
      '/swagger/v1/swagger.json',
      '/swagger/json',
      '/swagger/yaml',
      '/swagger/static/swagger-initializer.js',
      '/swagger/static/index.css',
      '/swagger/static/logo.svg',
      '/swagger/static/oauth2-redirect.html',
      '/swagger/static/nope.js',
      '/swagger/static/../../package.json',
    ),
    weight: 3,
  },
  {
    route: 'ANY unknown path',
    methods: ['GET', 'POST'],
    path: fc.constantFrom(
      '/',
      '/v1',
      '/v1/api-keys',
      '/v1/members',
      '/connect',
      '/connect/',
      '/connect/userinfo/x',
      '/connect/token/x',
      '/connect/authorize/x',
      '/console/nope',
      '/.env',
      '/favicon.ico',
    ),
    body: () => nastyBody,
    weight: 2,
  },
];

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'PROPFIND', 'SEARCH'];

const INSERTS = [
  '%zz',
  '%',
  '%4',
  '%G1',
  '%C3%28',
  '%ED%A0%80',
  '%00',
  '%2F',
  '%2f',
  '%5C',
  '%2e',
  '%2e%2e/',
  '/',
  '//',
  '/./',
  '/../',
  '/..',
  ';',
  ';x=1',
  '#x',
  '\\',
  'é',
  'İ',
  'ſ',
  '\u212a',
  '\uff0f',
  '𝕏',
];
const ORIGINS = [
  'http://127.0.0.1:8080',
  'http://evil.example',
  'HTTPS://EVIL.EXAMPLE:443',
  'http://x',
  'http://user:pass@evil.example',
  '//evil.example',
];

/** Mutations of a path: case, percent-encoding (valid and not), slashes, dot segments, unicode, absolute form. */
const mutation: fc.Arbitrary<PathMutation> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant('case' as const), mask: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('encode' as const), at: fc.nat(40), upper: fc.boolean() }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('insert' as const),
      at: fc.nat(40),
      text: fc.constantFrom(...INSERTS),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('append' as const), text: fc.constantFrom(...INSERTS, '/', '.') }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('prefix' as const), text: fc.constantFrom(...ORIGINS) }),
  },
);

const headerName = fc.constantFrom('x-api-key', 'X-Api-Key', 'X-API-KEY');
const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'application/x-www-form-urlencoded',
  'application/x-www-form-urlencoded; charset=utf-8',
  'application/x-www-form-urlencoded;charset=latin1',
  'Application/X-WWW-Form-Urlencoded',
  'text/plain',
  'text/html',
  'multipart/form-data; boundary=x',
  'application/xml',
  'application/octet-stream',
  'application/problem+json',
  'application/vnd.api+json',
  'application/json, text/html',
  ';',
  'application/json; charset=utf-16',
  '',
];

/** The content type a client would send with this body. */
function usualContentType(body: Body | null): string | null {
  if (body?.kind === 'form') return 'application/x-www-form-urlencoded';
  if (body?.kind === 'json' || body?.kind === 'nested') return 'application/json; charset=utf-8';
  return body ? 'application/octet-stream' : null;
}

type Headers = [string, HeaderValue][];

/** Any credentials: none, an API key, an Authorization header, both, a repeated API key. */
const anyCredentials: fc.Arbitrary<Headers> = fc.oneof(
  { weight: 3, arbitrary: fc.constant<Headers>([]) },
  { weight: 3, arbitrary: fc.tuple(headerName, privateKey).map(([n, v]): Headers => [[n, v]]) },
  { weight: 3, arbitrary: authorization.map((v): Headers => [['authorization', v]]) },
  {
    weight: 1,
    arbitrary: fc.tuple(privateKey, authorization).map(
      ([k, a]): Headers => [
        ['x-api-key', k],
        ['authorization', a],
      ],
    ),
  },
  {
    weight: 1,
    arbitrary: fc.tuple(privateKey, privateKey).map(
      ([k1, k2]): Headers => [
        ['x-api-key', k1],
        ['x-api-key', k2],
      ],
    ),
  },
);

/** The REST API's credentials: mostly a live key or token, so that requests get past `authenticate`. */
const restCredentials: fc.Arbitrary<Headers> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .tuple(headerName, fc.constantFrom(ph('KEY_A'), ph('KEY_WS'), ph('KEY_B')))
      .map(([n, v]): Headers => [[n, v]]),
  },
  {
    weight: 3,
    arbitrary: fc
      .constantFrom(ph('ACCESS_A'), ph('ACCESS_WS'), ph('ACCESS_USER'))
      .map((t): Headers => [['authorization', `Bearer ${t}`]]),
  },
  { weight: 4, arbitrary: anyCredentials },
);

/** OAuth client authentication: mostly Basic with a seeded key pair, in any of its shapes. */
const clientCredentials: fc.Arbitrary<Headers> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .tuple(
        keyPair,
        fc.constantFrom(
          'standard',
          'standard',
          'standard',
          'form-encoded',
          'lowercase',
          'spaces',
          'unpadded',
        ),
      )
      .map(([[id, secret], style]): Headers => [['authorization', { basic: [id, secret], style }]]),
  },
  { weight: 5, arbitrary: anyCredentials },
);

/** Headers besides content type and cookies: credentials, origin, and a few that proxies set. */
function headersWith(credentials: fc.Arbitrary<Headers>): fc.Arbitrary<Headers> {
  return fc
    .tuple(
      credentials,
      fc.oneof(
        { weight: 6, arbitrary: fc.constant(null) },
        { weight: 1, arbitrary: fc.constantFrom(ph('ISSUER'), 'null') },
        {
          weight: 1,
          arbitrary: fc.constantFrom('https://evil.example', 'https://app.example', 'http://127.0.0.1'),
        },
      ),
      fc.option(fc.constantFrom('GET', 'POST', 'DELETE', 'PUT'), { freq: 2, nil: null }),
      fc.subarray<[string, HeaderValue]>([
        ['accept', 'text/html'],
        ['accept', 'application/json'],
        ['x-forwarded-proto', 'http'],
        ['x-forwarded-for', '203.0.113.7, 10.0.0.1'],
        ['x-forwarded-host', 'evil.example'],
        ['host', 'evil.example'],
        ['x-csrf-token', ph('CSRF_SIGNED')],
        ['x-requested-with', 'XMLHttpRequest'],
        ['request-id', 'forged'],
        ['accept-language', '\u00e9\u00ff'],
      ]),
    )
    .map(([credential, origin, preflight, extra]) => {
      const headers: Headers = [...credential, ...extra];
      if (origin) headers.push(['origin', origin]);
      if (origin && preflight) headers.push(['access-control-request-method', preflight]);
      return headers;
    });
}

const ADDRESSES = ['127.0.0.1', '::1', '10.0.0.7', '2001:db8::7', '::ffff:127.0.0.1'];

/** The request of one route: mostly its own method and body, a browser state, mutations, stray headers. */
function requestOf(spec: RouteSpec): fc.Arbitrary<FuzzRequest> {
  // The body depends on the browser (its CSRF token): generated together, so that both shrink.
  const browserAndBody = browserState.chain((state) =>
    fc.tuple(
      fc.constant(state),
      fc.option(spec.body ? spec.body(state) : nastyBody, { freq: spec.body ? 8 : 1, nil: null }),
    ),
  );
  return fc
    .record({
      method: fc.oneof(
        { weight: 8, arbitrary: fc.constantFrom(...spec.methods) },
        { weight: 2, arbitrary: fc.constantFrom(...METHODS) },
      ),
      path: spec.path,
      mutations: fc.oneof(
        { weight: 6, arbitrary: fc.constant<PathMutation[]>([]) },
        { weight: 4, arbitrary: fc.array(mutation, { minLength: 1, maxLength: 3 }) },
      ),
      query: spec.query ?? fc.oneof(fc.constant<Param[]>([]), params(['x', 'q'])),
      rawQuery: fc.oneof(
        { weight: 8, arbitrary: fc.constant('') },
        { weight: 1, arbitrary: fc.constantFrom('&', '&&=&', '&%zz', '&a=%C3%28', '&a=%00', '&a', '#frag') },
      ),
      browserAndBody,
      contentType: fc.oneof(
        { weight: 12, arbitrary: fc.constant('usual' as const) },
        { weight: 2, arbitrary: fc.constantFrom(...CONTENT_TYPES) },
        { weight: 1, arbitrary: fc.constant(null) },
      ),
      extraCookie: fc.option(cookie, { freq: 5, nil: null }),
      headers: headersWith(spec.credentials ? spec.credentials() : anyCredentials),
      remoteAddress: fc.constantFrom(...ADDRESSES),
    })
    .map((r): FuzzRequest => {
      const [state, body] = r.browserAndBody;
      const headers: [string, HeaderValue][] = [...r.headers];
      const contentType = r.contentType === 'usual' ? usualContentType(body) : r.contentType;
      if (contentType !== null && (body !== null || contentType !== ''))
        headers.push(['content-type', contentType]);
      const cookies = [cookiesOf(state), r.extraCookie].filter((c): c is string => typeof c === 'string');
      if (cookies.length) headers.push(['cookie', cookies.join('; ')]);
      return {
        route: spec.route,
        method: r.method,
        path: r.path,
        mutations: r.mutations,
        query: r.query,
        rawQuery: r.rawQuery,
        headers,
        body,
        remoteAddress: r.remoteAddress,
      };
    });
}

/** One request to any route of the app, mutated, with hostile headers and body. */
export const fuzzRequest: fc.Arbitrary<FuzzRequest> = fc.oneof(
  ...ROUTES.map((spec) => ({ weight: spec.weight, arbitrary: requestOf(spec) })),
);
