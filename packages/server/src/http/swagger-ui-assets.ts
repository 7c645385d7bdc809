/**
 * Gatehouse's own files around Swagger UI: the page, its start-up script, its stylesheet and the logo.
 * Kept as strings, so that the bundled server (scripts/build.mjs) carries them without copying files.
 */

/** Where the plugin serves its files (the installed swagger-ui-dist; never a CDN) and our theme's. */
export const STATIC = '/swagger/static';
export const THEME = `${STATIC}/theme`;
export const DOCUMENT_PATH = '/swagger/v1/swagger.json';

/** The Gatehouse mark: a gatehouse with an open arch, in the console's accent colour. */
export const LOGO_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32" width="32" height="32"><rect width="32" height="32" rx="7" fill="#2456d6"/><path d="M7 26V12.5l3-2.2V8h3v0.1l3-2.2 9 6.6V26h-6v-5.5a3 3 0 0 0-6 0V26z" fill="#fff"/></svg>`;

export const STYLESHEET = `body { margin: 0; background: #f4f5f7; }
.gatehouse-bar {
  display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between; gap: 0.5rem 1.5rem;
  padding: 0.75rem 1.25rem; background: #1d2330; color: #fff;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
}
.gatehouse-brand { display: flex; align-items: center; gap: 0.6rem; color: #fff; text-decoration: none; font-size: 1.2rem; font-weight: 600; }
.gatehouse-brand svg { width: 32px; height: 32px; flex: none; }
.gatehouse-bar nav { display: flex; flex-wrap: wrap; gap: 0.5rem 1.25rem; }
.gatehouse-bar nav a { color: #c9d6ff; font-size: 0.95rem; }
.gatehouse-bar a:focus-visible { outline: 3px solid #9db8ff; outline-offset: 2px; }
.swagger-ui .info .title small.version-stamp { background-color: #2456d6; }
.swagger-ui .btn.authorize { color: #2456d6; border-color: #2456d6; }
.swagger-ui .btn.authorize svg { fill: #2456d6; }
.swagger-ui .info { margin: 32px 0 24px; }
`;

/**
 * Starts Swagger UI from the page's `data-` attributes (no inline script: the CSP allows only our
 * files). PKCE on the authorization code grant; `api1`, the scope every token needs, ticked.
 */
export const START_SCRIPT = `'use strict';
window.addEventListener('load', function () {
  var root = document.getElementById('swagger-ui');
  var ui = SwaggerUIBundle({
    url: root.dataset.document,
    dom_id: '#swagger-ui',
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
    deepLinking: true,
    displayRequestDuration: true,
    validatorUrl: null,
    oauth2RedirectUrl: new URL(root.dataset.oauth2Redirect, window.location.href).href
  });
  ui.initOAuth({ usePkceWithAuthorizationCodeGrant: true, scopes: ['api1'], appName: 'Gatehouse API' });
  window.ui = ui;
});
`;

/** The page at `/swagger/index.html`: every URL in it absolute, so that it works at any path. */
export function swaggerPage(oauth2RedirectPath: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Gatehouse API</title>
<link rel="icon" type="image/svg+xml" href="${THEME}/favicon.svg">
<link rel="stylesheet" href="${STATIC}/swagger-ui.css">
<link rel="stylesheet" href="${THEME}/gatehouse.css">
</head>
<body>
<header class="gatehouse-bar">
<a class="gatehouse-brand" href="/swagger/index.html">${LOGO_SVG.replace('<svg ', '<svg aria-hidden="true" ')}<span>Gatehouse API</span></a>
<nav aria-label="Gatehouse"><a href="${DOCUMENT_PATH}">OpenAPI document</a><a href="/console">Console</a></nav>
</header>
<main id="swagger-ui" data-document="${DOCUMENT_PATH}" data-oauth2-redirect="${oauth2RedirectPath}"></main>
<noscript><p>The API reference needs JavaScript; the document itself is at <a href="${DOCUMENT_PATH}">${DOCUMENT_PATH}</a>.</p></noscript>
<script src="${STATIC}/swagger-ui-bundle.js"></script>
<script src="${THEME}/gatehouse.js"></script>
</body>
</html>
`;
}
