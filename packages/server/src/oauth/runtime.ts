import type { JwtBearerVerifier } from '../auth/bearer-verifier.ts';
import type { Services } from '../services.ts';
import type { Denylist } from './denylist.ts';
import type { KeyRing } from './key-ring.ts';

/** What the authorization server adds to the services when it registers (src/oauth/routes.ts). */
export interface OAuthRuntime {
  readonly keyRing: KeyRing;
  readonly denylist: Denylist;
  readonly verifier: JwtBearerVerifier;
}

declare module '../services.ts' {
  interface Services {
    /** Set by the authorization server plugin; absent in an app built without it. */
    oauth?: OAuthRuntime;
  }
}

/** The authorization server's runtime; throws if the plugin is not registered (a wiring bug). */
export function oauthOf(services: Services): OAuthRuntime {
  if (!services.oauth) throw new Error('the OAuth plugin is not registered');
  return services.oauth;
}
