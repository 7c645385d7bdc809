import { type FieldError, invalidField, ProblemError } from '../errors/errors.ts';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** An email address as people type it: trimmed, one @, a dot in the domain, at most 254 characters. */
export function checkEmail(value: string, field = 'email', what = field): string {
  const email = value.trim();
  if (!EMAIL.test(email) || email.length > 254) throw invalidField(field, `${what} is not an email address`);
  return email;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname) || /^127(\.\d{1,3}){3}$/.test(hostname);
}

/** A label as people type it: trimmed, 1 to 200 characters, no control characters. */
export function checkLabel(value: string, what = 'label', field = 'label'): string {
  const label = value.trim();
  if (label.length < 1 || label.length > 200)
    throw invalidField(field, `${what} must be 1 to 200 characters`);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point.
  if (/[\u0000-\u001f\u007f]/.test(label))
    throw invalidField(field, `${what} must not contain control characters`);
  return label;
}

/**
 * A redirect URI to register: absolute, https (or http on a loopback host, RFC 8252 7.3), without
 * fragment, userinfo or wildcard (RFC 6749 3.1.2). Kept exactly as given, since matching is byte for byte.
 */
export function checkRedirectUri(value: string, field = 'redirectUris'): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalidField(field, `redirect URI is not an absolute URL: ${value}`);
  }
  const loopback = url.protocol === 'http:' && isLoopbackHost(url.hostname);
  if (url.protocol !== 'https:' && !loopback) {
    throw invalidField(field, `redirect URI must use https (http only on loopback): ${value}`);
  }
  if (url.hash || value.includes('#'))
    throw invalidField(field, `redirect URI must not have a fragment: ${value}`);
  if (url.username || url.password)
    throw invalidField(field, `redirect URI must not have userinfo: ${value}`);
  // Matching is exact, so a `*` would match only itself; refused so that nobody believes it is a pattern.
  if (value.includes('*')) throw invalidField(field, `redirect URI must not contain a wildcard: ${value}`);
  return value;
}

/** A CORS origin: `scheme://host[:port]` and nothing else, exactly as browsers send it. */
export function checkOrigin(value: string, field = 'corsOrigins'): string {
  let origin: string;
  try {
    origin = new URL(value).origin;
  } catch {
    throw invalidField(field, `CORS origin is not a URL: ${value}`);
  }
  if (origin !== value || origin === 'null') {
    throw invalidField(field, `CORS origin must be scheme://host[:port] without path or slash: ${value}`);
  }
  return value;
}

/**
 * Each item checked, duplicates dropped. Every invalid item is reported at once, each naming its
 * place (`redirectUris/2`), so that a form can mark every wrong line.
 */
export function checkList(
  values: readonly string[],
  field: string,
  check: (value: string, field: string) => string,
) {
  const errors: FieldError[] = [];
  const checked = values.map((value, index) => {
    try {
      return check(value, `${field}/${index}`);
    } catch (error) {
      if (!(error instanceof ProblemError) || error.code !== 'validation_failed') throw error;
      errors.push(...error.errors);
      return value;
    }
  });
  if (errors.length) {
    const [first] = errors;
    throw new ProblemError(
      'validation_failed',
      errors.length === 1 ? first?.message : `${errors.length} items of ${field} are invalid`,
      {},
      errors,
    );
  }
  return [...new Set(checked)];
}

const DURATION = /^(\d+)(s|m|h|d)$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `30d`, `12h`, `15m`, `90s` to milliseconds. */
export function parseDuration(value: string, what = 'duration'): number {
  const match = DURATION.exec(value.trim());
  if (!match?.[1] || !match[2]) {
    throw new ProblemError(
      'validation_failed',
      `${what} must look like 30d, 12h, 15m or 90s, got "${value}"`,
    );
  }
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}
