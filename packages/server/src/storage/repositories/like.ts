import { type RawBuilder, sql } from 'kysely';

/** Escapes LIKE wildcards so that a search for `50%` finds the literal text. */
function likePattern(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * A case-insensitive substring match of `column` against `text`, the search of every list (`q`).
 * ESCAPE is explicit: SQLite's LIKE has no escape character by default (PostgreSQL's is `\`).
 */
export function likeLower(column: string, text: string): RawBuilder<boolean> {
  return sql<boolean>`lower(${sql.ref(column)}) like ${likePattern(text)} escape '\\'`;
}
