/** Base64url without padding (RFC 4648 5), as PKCE and OAuth parameters spell it. */
export function base64url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** `bytes` random bytes from the platform's CSPRNG (Web Crypto: Node 19+, browsers, Deno, Bun), base64url. */
export function randomToken(bytes = 32): string {
  return base64url(globalThis.crypto.getRandomValues(new Uint8Array(bytes)));
}

/**
 * A PKCE pair (RFC 7636 4.1 and 4.2): a verifier of 32 random bytes (43 characters, the minimum
 * length, 256 bits) and its S256 challenge. `plain` is never used: the server refuses it (RFC 9700 2.1.1).
 */
export async function pkcePair(): Promise<{ codeVerifier: string; codeChallenge: string }> {
  const codeVerifier = randomToken(32);
  const digest = await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(codeVerifier));
  return { codeVerifier, codeChallenge: base64url(new Uint8Array(digest)) };
}
