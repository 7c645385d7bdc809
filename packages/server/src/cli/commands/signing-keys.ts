import { loadConfig } from '../../config/config.ts';
import { CLI_ACTOR } from '../../domain/audit.ts';
import { describeSigningKeys, PUBLICATION_MARGIN_MS, rotateSigningKey } from '../../domain/signing-keys.ts';
import { withStorage } from '../context.ts';
import { iso } from '../flags.ts';
import { command, group } from '../spec.ts';

const list = command({
  name: 'list',
  summary:
    'the keys that sign access tokens: active, still published, or expired (never their private parts)',
  flags: {},
  async run(_input, out) {
    const config = loadConfig();
    const keys = await withStorage(out, ({ db }) => describeSigningKeys(db, config.accessTokenTtl));
    const items = keys.map((k) => ({
      kid: k.kid,
      alg: k.alg,
      status: k.status,
      createdAt: iso(k.createdAt),
      retiredAt: iso(k.retiredAt),
      publishedUntil: iso(k.publishedUntil),
    }));
    out.result({ items, total: items.length }, () =>
      items.length
        ? items
            .map((k) =>
              [
                k.kid,
                k.alg,
                k.status.padEnd(9),
                k.createdAt,
                k.publishedUntil ? `until ${k.publishedUntil}` : '',
              ]
                .join('  ')
                .trimEnd(),
            )
            .join('\n')
        : 'No signing key yet: the server generates one on its first start.',
    );
  },
});

const rotate = command({
  name: 'rotate',
  summary: 'a new signing key; the previous one stays published until every token it signed has expired',
  flags: {},
  async run(_input, out) {
    const config = loadConfig();
    const rotated = await withStorage(out, ({ db }) => rotateSigningKey(db, config.secret, CLI_ACTOR));
    const until = iso(Date.now() + config.accessTokenTtl * 1000 + PUBLICATION_MARGIN_MS);
    out.result({ ...rotated, previousPublishedUntil: rotated.previousKid ? until : null }, () =>
      [
        `New signing key ${rotated.kid} is active; running servers sign with it within a few seconds.`,
        rotated.previousKid
          ? `The previous key ${rotated.previousKid} stays published until ${until}, so its tokens stay valid.`
          : 'There was no previous key.',
      ].join('\n'),
    );
  },
});

/** `gatehouse signing-keys ...`: the keys that sign access tokens. */
export const signingKeys = group({
  name: 'signing-keys',
  summary: 'the keys that sign access tokens',
  subcommands: [list, rotate],
});
