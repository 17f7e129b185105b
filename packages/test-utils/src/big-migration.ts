/**
 * A data migration of about `bytes`: one table and row after row of single-row INSERTs, the
 * shape of a seed or a data fix exported as SQL (20 MB is about 175k INSERTs). Returns the
 * text and how many rows it inserts.
 */
export function bigMigration(bytes: number): { sql: string; rows: number } {
  const parts = [
    'create table items (id bigint primary key, sku text not null, title text not null, price numeric(8, 2));\n',
  ]
  let size = parts[0]!.length
  let rows = 0
  while (size < bytes) {
    const line = `insert into items (id, sku, title, price) values (${rows}, 'SKU-${rows}', 'Item number ${rows} in the catalogue; a café', ${rows % 1000}.99);\n`
    parts.push(line)
    size += Buffer.byteLength(line)
    rows++
  }
  return { sql: parts.join(''), rows }
}
