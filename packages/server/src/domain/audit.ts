/** Who did something and from where: recorded with every change (DESIGN.md 3 rule 11). */
export interface Actor {
  /** `cli`, `user:<id>`, `key:<public key>` or `anonymous`. */
  actor: string;
  ip?: string | null;
}

export const CLI_ACTOR: Actor = { actor: 'cli', ip: null };
