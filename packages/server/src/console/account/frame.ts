import { html, type SafeHtml } from '../html.ts';
import { STYLESHEET_PATH } from '../layout.ts';
import { signOutForm } from '../sign-out.ts';

/**
 * The frame of the account page: the console's top bar (who is signed in, sign-out) over one column.
 * No organization's sections: the page is the user's own, whichever organizations they belong to.
 */
export function accountFrame(title: string, email: string, csrf: string, body: SafeHtml): SafeHtml {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${title} · Gatehouse</title>
<link rel="stylesheet" href="${STYLESHEET_PATH}">
</head>
<body class="app">
<a class="skip" href="#main">Skip to content</a>
<header class="topbar account-bar">
<div class="topbar-row">
<a class="brand" href="/">Gatehouse</a>
<div class="who"><span class="small muted">${email}</span>${signOutForm(csrf)}</div>
</div>
</header>
<main id="main" class="content account">
${body}
</main>
</body>
</html>
`;
}
