import { loadConfig } from '../../config/config.ts';
import { CLI_ACTOR } from '../../domain/audit.ts';
import { isSigningAlgorithm, SIGNING_ALGORITHMS } from '../../domain/jws.ts';
import { describeSigningKeys, PUBLICATION_MARGIN_MS, rotateSigningKey } from '../../domain/signing-keys.ts';
import { withStorage } from '../context.ts';
import { iso } from '../flags.ts';
import { command, group } from '../spec.ts';

const list = command({
  name: 'list',
  summary:
    'the keys that sign access tokens (ES256) and ID tokens (RS256, or ES256): active, still published, or expired (never their private parts)',
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
        : 'No signing key yet: the server generates one per algorithm on its first start.',
    );
  },
});

const rotate = command({
  name: 'rotate',
  summary:
    'a new signing key for every algorithm (or one); the previous ones stay published until every token they signed has expired',
  flags: {
    alg: {
      type: 'string',
      value: 'ALG',
      choices: SIGNING_ALGORITHMS,
      description: 'rotate only this algorithm: ES256 (access tokens, some ID tokens) or RS256 (ID tokens)',
    },
  },
  notes: [
    'Without --alg, the ES256 and RS256 keys are rotated together, in one transaction (after a suspected leak, none is left behind).',
  ],
  async run({ values }, out) {
    const config = loadConfig();
    // Checked against the flag's choices already; narrowed for the type.
    const algorithms = values.alg !== undefined && isSigningAlgorithm(values.alg) ? [values.alg] : undefined;
    const rotated = await withStorage(out, ({ db }) =>
      rotateSigningKey(db, config.secret, CLI_ACTOR, algorithms),
    );
    const until = iso(Date.now() + config.accessTokenTtl * 1000 + PUBLICATION_MARGIN_MS);
    const items = rotated.map((k) => ({ ...k, previousPublishedUntil: k.previousKid ? until : null }));
    out.result({ rotated: items }, () =>
      items
        .map((k) =>
          [
            `New ${k.alg} signing key ${k.kid} is active; running servers sign with it within a few seconds.`,
            k.previousKid
              ? `The previous ${k.alg} key ${k.previousKid} stays published until ${until}, so its tokens stay valid.`
              : `There was no previous ${k.alg} key.`,
          ].join('\n'),
        )
        .join('\n'),
    );
  },
});

/** `gatehouse signing-keys ...`: the keys that sign access tokens and ID tokens. */
export const signingKeys = group({
  name: 'signing-keys',
  summary: 'the keys that sign access tokens and ID tokens',
  subcommands: [list, rotate],
});
