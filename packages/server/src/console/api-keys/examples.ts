import type { ApiKey } from '../../model/types.ts';
import { html, type SafeHtml } from '../html.ts';

/**
 * "How to call the API with this key": the README's own examples, with this server's URL and the
 * key's public key filled in. Never the private key: the page shows a placeholder for it.
 */
export function examples(issuer: string, key: ApiKey): SafeHtml {
  const redirectUri = key.redirectUris[0];
  const authorize =
    redirectUri &&
    `${issuer}/connect/authorize?${new URLSearchParams({
      response_type: 'code',
      client_id: key.publicKey,
      redirect_uri: redirectUri,
      scope: 'api1 offline_access',
      state: '<random>',
      code_challenge: '<base64url(sha256(verifier))>',
      code_challenge_method: 'S256',
    })
      .toString()
      // The placeholders stay readable: they are to be replaced, not sent as they are.
      .replace(/%3C/g, '<')
      .replace(/%3E/g, '>')
      .replace(/%28/g, '(')
      .replace(/%29/g, ')')}`;
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
