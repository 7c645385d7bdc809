import type { FastifyInstance } from 'fastify';
import { JwtBearerVerifier } from '../auth/bearer-verifier.ts';
import { authorizeRoutes } from './authorize.ts';
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
  // Outside the form-only scope below: the authorization endpoint answers pages and redirects, not JSON.
  authorizeRoutes(app);
  jwksRoute(app);
  // Encapsulated: the form-only body parsing applies to /connect/* and nowhere else.
  await app.register(connectEndpoints);
}

/** `/connect/*`: form bodies only, each endpoint one file. */
function connectEndpoints(connect: FastifyInstance, _options: unknown, done: (error?: Error) => void): void {
  acceptOnlyForms(connect);
  tokenRoute(connect);
  revocationRoute(connect);
  introspectionRoute(connect);
  done();
}
