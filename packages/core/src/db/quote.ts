/** A quoted SQL identifier, always quoted (as quote_ident would when it has to): `"my ""odd"" name"`. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`
}
