import type { FastifyReply } from 'fastify';
import { html, type SafeHtml } from './html.ts';
import { SCRIPT_PATH, STYLESHEET_PATH, sendPage } from './layout.ts';
import { type OrgContext, orgPath } from './org/access.ts';
import { signOutForm } from './sign-out.ts';

/** The sections of an organization's console, in the order of its navigation. */
export type Section = 'api-keys' | 'workspaces' | 'members' | 'audit';

const SECTIONS: readonly { id: Section; label: string }[] = [
  { id: 'api-keys', label: 'API configuration' },
  { id: 'workspaces', label: 'Workspaces' },
  { id: 'members', label: 'Members' },
  { id: 'audit', label: 'Audit log' },
];

const ROLE_NAMES = { owner: 'Owner', admin: 'Admin', member: 'Member' } as const;

function switcher(context: OrgContext, section: Section): SafeHtml {
  const current = context.organization;
  const others = context.organizations.filter((o) => o.tenantId !== current.tenantId);
  if (!others.length) return html`<span class="org-name">${current.label}</span>`;
  // A disclosure of links: switching organization works without script, by keyboard, on a phone.
  return html`<details class="switcher">
<summary><span class="visually-hidden">Organization: </span>${current.label}</summary>
<ul class="plain">${others.map(
    (o) =>
      html`<li><a href="${o.role === 'member' ? '/console' : `/o/${o.tenantId}/${section}`}">${o.label}<span class="muted small"> · ${ROLE_NAMES[o.role]}</span></a></li>`,
  )}</ul>
</details>`;
}

function navigation(context: OrgContext, section: Section): SafeHtml {
  return html`<nav class="tabs" aria-label="Organization sections"><ul class="plain">${SECTIONS.map(
    (s) =>
      html`<li><a href="${orgPath(context, `/${s.id}`)}"${s.id === section ? html` aria-current="page"` : ''}>${s.label}</a></li>`,
  )}</ul></nav>`;
}

export interface ShellPage {
  title: string;
  section: Section;
  body: SafeHtml;
  status?: number | undefined;
}

/** The frame of an organization's pages: who and where, the sections, then the page. */
export function shell(context: OrgContext, page: ShellPage): SafeHtml {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${page.title} · ${context.organization.label} · Gatehouse</title>
<link rel="stylesheet" href="${STYLESHEET_PATH}">
<script src="${SCRIPT_PATH}" defer></script>
</head>
<body class="app">
<a class="skip" href="#main">Skip to content</a>
<header class="topbar">
<div class="topbar-row">
<a class="brand" href="/">Gatehouse</a>
${switcher(context, page.section)}
<div class="who"><a href="/console" class="small">${context.user.displayName ?? context.user.email}</a>${signOutForm(context.csrf)}</div>
</div>
${navigation(context, page.section)}
</header>
<main id="main" class="content">
${page.body}
</main>
</body>
</html>
`;
}

/** Sends an organization's page, with the console's headers (no-store, strict CSP, never framed). */
export function sendShellPage(reply: FastifyReply, context: OrgContext, page: ShellPage): FastifyReply {
  return sendPage(reply, {
    title: page.title,
    body: page.body,
    status: page.status ?? 200,
    document: shell(context, page),
    script: true,
  });
}
