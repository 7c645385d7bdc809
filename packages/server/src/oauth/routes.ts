import type { FastifyInstance } from 'fastify';
import { JwtBearerVerifier } from '../auth/bearer-verifier.ts';
import { answerOAuthErrors } from '../http/error-handler.ts';
import { Denylist } from './denylist.ts';
import { discoveryRoutes } from './discovery.ts';
import { acceptOnlyForms } from './form-body.ts';
import { introspectionRoute } from './introspection.ts';
import { jwksRoute } from './jwks.ts';
import { KeyRing } from './key-ring.ts';
import { revocationRoute } from './revocation.ts';
import { tokenRoute } from './token/index.ts';

export interface OAuthOptions {
  /** Poll interval of the revocation denylist (tests shorten it); default 1 s. */
  pollMs?: number | undefined;
}

/**
 * The authorization server: starts the signing keys (generating the first on first start) and the
 * revocation denylist, installs the bearer verifier on the REST API, and registers discovery, JWKS and
 * the /connect/* endpoints.
 */
export async function oauthRoutes(app: FastifyInstance, options: OAuthOptions = {}): Promise<void> {
  const { services } = app;
  const onError = (error: unknown) =>
    app.log.error({ err: error }, 'authorization server background task failed');
  const keyRing = new KeyRing(services.db, services.config, { onError });
  await keyRing.start();
  const denylist = new Denylist(services.db, { pollMs: options.pollMs, onError });
  await denylist.start();
  const verifier = new JwtBearerVerifier(services, keyRing, denylist);
  services.oauth = { keyRing, denylist, verifier };
  services.bearer = verifier;
  services.onClose.push(async () => {
    denylist.stop();
    keyRing.stop();
  });

  discoveryRoutes(app);
  jwksRoute(app);
  // Encapsulated: RFC 6749 errors and form-only bodies apply to these endpoints and nowhere else. The
  // authorization endpoint answers pages and redirects instead: it is registered with the console.
  await app.register(connectEndpoints);
}

/** `/connect/token`, revocation and introspection: RFC 6749 5.2 errors, form bodies only, one file each. */
function connectEndpoints(connect: FastifyInstance, _options: unknown, done: (error?: Error) => void): void {
  answerOAuthErrors(connect);
  acceptOnlyForms(connect);
  tokenRoute(connect);
  revocationRoute(connect);
  introspectionRoute(connect);
  done();
}
