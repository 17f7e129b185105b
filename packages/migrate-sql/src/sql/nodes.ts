import type { Node } from 'libpg-query'

/** Every kind of parse tree node: `IndexStmt`, `AlterTableCmd`, `String`, ... */
type NodeKind = KindsOf<Node>
type KindsOf<N> = N extends unknown ? keyof N : never

/**
 * A parse tree node with every kind optional, as the rules read it: `node.IndexStmt?.concurrent`.
 * Any `Node` of libpg_query's types is one (a node has exactly one of these keys).
 */
export type AnyNode = { [K in NodeKind]?: Extract<Node, Record<K, unknown>>[K] }
