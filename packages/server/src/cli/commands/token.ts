import { loadConfig } from '../../config/config.ts';
import { CliError, UsageError } from '../output.ts';
import { askHidden, canPrompt } from '../prompt.ts';
import { command } from '../spec.ts';

/** RFC 6749 2.3.1: client id and secret are form-encoded before they are joined for Basic. */
const formEncode = (value: string) => new URLSearchParams({ v: value }).toString().slice(2);

interface TokenResponse {
  access_token?: string;
  error?: string;
  error_description?: string;
}

/** The private key: the flag, else GATEHOUSE_PRIVATE_KEY (out of shell history), else typed at the terminal. */
async function privateKey(flag: string | undefined): Promise<string> {
  const value = flag ?? process.env.GATEHOUSE_PRIVATE_KEY;
  if (value) return value;
  if (!canPrompt())
    throw new UsageError(
      'gatehouse token needs the private key: set GATEHOUSE_PRIVATE_KEY (or pass --private-key S), or run it in a terminal to be asked for it',
    );
  return askHidden('Private key: ');
}

/** The issuer's base URL: the flag, else the server this project's settings describe. */
function issuerUrl(flag: string | undefined): URL {
  const raw = flag ?? loadConfig().issuer;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--issuer must be an absolute URL, like http://127.0.0.1:8080, got "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError('--issuer must be http(s)');
  return url;
}

/**
 * `gatehouse token`: an access token by client credentials (RFC 6749 4.4), asked over HTTP of a running
 * server as any client would, so that it proves the key works there. Nothing is read from the database.
 */
export const token = command({
  name: 'token',
  summary: 'get an access token for an API key from a running server (client credentials); prints the token',
  flags: {
    'public-key': {
      type: 'string',
      value: 'P',
      required: true,
      description: 'the public key of the API key (client_id)',
    },
    'private-key': {
      type: 'string',
      value: 'S',
      description:
        'its private key (client_secret); better: GATEHOUSE_PRIVATE_KEY, kept out of shell history',
    },
    issuer: {
      type: 'string',
      value: 'URL',
      description: 'the server (default: GATEHOUSE_ISSUER, else http://GATEHOUSE_HOST:GATEHOUSE_PORT)',
    },
    scope: { type: 'string', value: 'SCOPE', description: 'the scope to ask for (default: api1)' },
  },
  notes: [
    'The token alone goes to stdout, so that TOKEN=$(gatehouse token ...) works; --json prints the whole',
    'token response (access_token, expires_in, token_type, scope).',
  ],
  async run({ values }, out) {
    const issuer = issuerUrl(values.issuer);
    const secret = await privateKey(values['private-key']);
    const endpoint = new URL(`${issuer.pathname.replace(/\/$/, '')}/connect/token`, issuer);
    const body = new URLSearchParams({ grant_type: 'client_credentials' });
    if (values.scope !== undefined) body.set('scope', values.scope);
    const basic = Buffer.from(`${formEncode(values['public-key'])}:${formEncode(secret)}`).toString('base64');
    let response: Response;
    try {
      response = await fetch(endpoint, {
        method: 'POST',
        headers: { authorization: `Basic ${basic}`, accept: 'application/json' },
        body,
        signal: AbortSignal.timeout(30_000),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const reason =
        cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
      throw new CliError(
        'server_unreachable',
        `cannot reach ${endpoint.href} (${reason}): is the server running? (--issuer sets another)`,
      );
    }
    const answer = (await response.json().catch(() => ({}))) as TokenResponse;
    if (!response.ok || !answer.access_token) {
      const code = answer.error ?? `http_${response.status}`;
      const detail = answer.error_description ?? `HTTP ${response.status} without a token`;
      throw new CliError(code, `${endpoint.href} refused: ${code}: ${detail}`);
    }
    const accessToken = answer.access_token;
    out.result(answer, () => accessToken);
  },
});
