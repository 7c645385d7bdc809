import type { ApiKey } from '../../model/types.ts';
import { html, type SafeHtml } from '../html.ts';

/** Placeholders stay readable in a URL: they are to be replaced, not sent as they are. */
function readable(query: URLSearchParams): string {
  return query.toString().replace(/%3C/g, '<').replace(/%3E/g, '>').replace(/%28/g, '(').replace(/%29/g, ')');
}

/** The authorization request of the code flow with PKCE (RFC 7636 4.3), for `redirectUri`. */
function authorizeUrl(issuer: string, key: ApiKey, redirectUri: string): string {
  return `${issuer}/connect/authorize?${readable(
    new URLSearchParams({
      response_type: 'code',
      client_id: key.publicKey,
      redirect_uri: redirectUri,
      scope: 'api1 offline_access',
      state: '<random>',
      code_challenge: '<base64url(sha256(verifier))>',
      code_challenge_method: 'S256',
    }),
  )}`;
}

/**
 * A public client's only way in: the authorization code flow with PKCE, the code exchanged with its
 * client_id and the verifier, no secret (RFC 6749 2.3 and 4.1.3, RFC 7636 4.5). X-API-Key and client
 * credentials are not shown: they need the private key it does not have.
 */
function publicClientExamples(issuer: string, key: ApiKey): SafeHtml {
  const redirectUri = key.redirectUris[0] ?? '<redirect URL>';
  return html`<section class="panel examples" aria-labelledby="examples-title">
<h2 id="examples-title">How to call the API with this key</h2>
<p class="small muted">A public client has no private key: your app signs a person in with the authorization code flow and PKCE (S256), and identifies itself by its <code>client_id</code> alone.${key.redirectUris.length ? '' : ' Add a redirect URL to its settings first.'}</p>
<h3>1. Send the person to sign in</h3>
<p class="small">Make a random <code>verifier</code> (43 to 128 characters) and keep it; send its SHA-256 as the challenge.</p>
<pre><code>${authorizeUrl(issuer, key, redirectUri)}</code></pre>
<h3>2. Exchange the code, with the verifier and the client_id only</h3>
<pre><code>curl -X POST ${issuer}/connect/token \\
  -d grant_type=authorization_code \\
  -d 'code=&lt;code&gt;' \\
  --data-urlencode 'redirect_uri=${redirectUri}' \\
  -d client_id=${key.publicKey} \\
  -d 'code_verifier=&lt;verifier&gt;'</code></pre>
<h3>3. Call the API with the access token</h3>
<pre><code>TOKEN='&lt;access_token&gt;'
curl ${issuer}/v1/workspaces -H "Authorization: Bearer $TOKEN"</code></pre>
</section>`;
}

/**
 * "How to call the API with this key": the README's own examples, with this server's URL and the
 * key's public key filled in. Never the private key: the page shows a placeholder for it. A public
 * client gets the authorization code flow with PKCE only.
 */
export function examples(issuer: string, key: ApiKey): SafeHtml {
  if (key.clientType === 'public') return publicClientExamples(issuer, key);
  const redirectUri = key.redirectUris[0];
  const authorize = redirectUri && authorizeUrl(issuer, key, redirectUri);
  return html`<section class="panel examples" aria-labelledby="examples-title">
<h2 id="examples-title">How to call the API with this key</h2>
<p class="small muted">Replace <code>&lt;private key&gt;</code> with the private key you copied when the key was created or rotated.</p>
<h3>With X-API-Key</h3>
<pre><code>curl -X GET '${issuer}/me' -H 'accept: */*' -H 'X-API-Key: &lt;private key&gt;'
curl '${issuer}/v1/workspaces' -H 'X-API-Key: &lt;private key&gt;'</code></pre>
<h3>With client credentials, then Bearer</h3>
<pre><code>PUBLIC='${key.publicKey}'; PRIVATE='&lt;private key&gt;'
curl -X POST ${issuer}/connect/token \\
  -H "Authorization: Basic $(printf '%s:%s' "$PUBLIC" "$PRIVATE" | base64 -w0)" \\
  -d 'grant_type=client_credentials&amp;scope=api1'

TOKEN='&lt;access_token&gt;'
curl ${issuer}/v1/workspaces -H "Authorization: Bearer $TOKEN"</code></pre>
${
  authorize
    ? html`<h3>Authorization code (for an app acting for a person)</h3>
<pre><code>${authorize}</code></pre>`
    : ''
}
</section>`;
}
