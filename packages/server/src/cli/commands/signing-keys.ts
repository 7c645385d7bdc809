import { loadConfig } from '../../config/config.ts';
import { CLI_ACTOR } from '../../domain/audit.ts';
import { describeSigningKeys, PUBLICATION_MARGIN_MS, rotateSigningKey } from '../../domain/signing-keys.ts';
import { parse } from '../args.ts';
import { withStorage } from '../context.ts';
import { type Output, UsageError } from '../output.ts';

const USAGE = `usage:
  gatehouse signing-keys list
  gatehouse signing-keys rotate`;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** `gatehouse signing-keys ...`: the keys that sign access tokens (never their private parts). */
export async function signingKeys(args: string[], out: Output): Promise<void> {
  const [sub, ...rest] = args;
  parse(rest, {});
  const config = loadConfig();
  switch (sub) {
    case 'list': {
      const keys = await withStorage((storage) => describeSigningKeys(storage.db, config.accessTokenTtl));
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
      return;
    }
    case 'rotate': {
      const rotated = await withStorage((storage) => rotateSigningKey(storage.db, config.secret, CLI_ACTOR));
      const until = iso(Date.now() + config.accessTokenTtl * 1000 + PUBLICATION_MARGIN_MS);
      out.result({ ...rotated, previousPublishedUntil: rotated.previousKid ? until : null }, () =>
        [
          `New signing key ${rotated.kid} is active; running servers sign with it within a few seconds.`,
          rotated.previousKid
            ? `The previous key ${rotated.previousKid} stays published until ${until}, so its tokens stay valid.`
            : 'There was no previous key.',
        ].join('\n'),
      );
      return;
    }
    default:
      throw new UsageError(USAGE);
  }
}
