/**
 * `Params`: an immutable, ordered map from MLflow param keys to string values.
 *
 * Every operation returns a new `Params` and leaves its input as it was, so a context can hand
 * its params to a child and get them back untouched. Writing to the newest version costs O(1)
 * (amortised): versions share one table, and an older version is recovered on demand by
 * undoing the later changes (Baker's "rerooting" technique). Recording 100k params one by one
 * therefore stays linear. Order is insertion order; overwriting a key keeps its place.
 *
 * @example
 * import { Params } from 'charmory-track'
 * import { pipe } from 'fp-ts/lib/function.js'
 *
 * const a = pipe(Params.empty, Params.set('f.x', '1'), Params.set('g.y', '2'))
 * const b = pipe(a, Params.removePrefix('f'))
 * assert.deepStrictEqual(Params.toRecord(a), { 'f.x': '1', 'g.y': '2' })
 * assert.deepStrictEqual(Params.toRecord(b), { 'g.y': '2' })
 *
 * @since 0.1.0
 */
import * as O from 'fp-ts/lib/Option.js'
import type { Entry } from './ParamValue.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

interface Slot {
  readonly value: string
  readonly seq: number
}

interface Root {
  readonly _tag: 'Root'
  readonly table: Map<string, Slot>
  readonly counter: { next: number }
}

interface Diff {
  readonly _tag: 'Diff'
  readonly key: string
  readonly slot: Slot | undefined
  readonly next: Node
}

interface Node {
  data: Root | Diff
}

/**
 * An immutable, ordered map of param keys to MLflow string values.
 * @category model
 * @since 0.1.0
 */
export interface Params {
  readonly _Params: unique symbol
}

const node = (p: Params): Node => p as unknown as Node
const params = (n: Node): Params => n as unknown as Params

/** Makes `n` the version that owns the table, undoing the changes made after it. */
const reroot = (n: Node): Root => {
  const path: Array<Node> = []
  let cur = n
  while (cur.data._tag === 'Diff') {
    path.push(cur)
    cur = cur.data.next
  }
  for (let i = path.length - 1; i >= 0; i--) {
    const target = path[i] as Node
    const diff = target.data as Diff
    const root = cur.data as Root
    const now = root.table.get(diff.key)
    if (diff.slot === undefined) root.table.delete(diff.key)
    else root.table.set(diff.key, diff.slot)
    cur.data = { _tag: 'Diff', key: diff.key, slot: now, next: target }
    target.data = root
    cur = target
  }
  return cur.data as Root
}

const write = (p: Params, key: string, slot: Slot | undefined): Params => {
  const from = node(p)
  const root = reroot(from)
  const before = root.table.get(key)
  if (slot === undefined) root.table.delete(key)
  else root.table.set(key, slot)
  const to: Node = { data: root }
  from.data = { _tag: 'Diff', key, slot: before, next: to }
  return params(to)
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * No params.
 * @category constructors
 * @since 0.1.0
 */
export const empty: Params = params({ data: { _tag: 'Root', table: new Map(), counter: { next: 0 } } })

const unshared = (): Params => params({ data: { _tag: 'Root', table: new Map(), counter: { next: 0 } } })

// -------------------------------------------------------------------------------------
// combinators
// -------------------------------------------------------------------------------------

/**
 * Sets `key`; an existing key keeps its place in the order.
 * @category combinators
 * @since 0.1.0
 */
export const set =
  (key: string, value: string) =>
  (given: Params): Params => {
    // `empty` is shared by every context: setting a key in it starts a table of its own
    const p = given === empty ? unshared() : given
    const root = reroot(node(p))
    const existing = root.table.get(key)
    if (existing !== undefined && existing.value === value) return p
    return write(p, key, { value, seq: existing?.seq ?? root.counter.next++ })
  }

/**
 * Removes `key` if present.
 * @category combinators
 * @since 0.1.0
 */
export const remove =
  (key: string) =>
  (p: Params): Params =>
    reroot(node(p)).table.has(key) ? write(p, key, undefined) : p

/**
 * Removes every key that starts with `prefix + "."`.
 * @category combinators
 * @since 0.1.0
 */
export const removePrefix =
  (prefix: string) =>
  (p: Params): Params =>
    keysUnder(prefix)(p).reduce((acc, k) => write(acc, k, undefined), p)

/**
 * Sets every entry, in order.
 * @category combinators
 * @since 0.1.0
 */
export const setAll =
  (entries: ReadonlyArray<Entry>) =>
  (p: Params): Params =>
    entries.reduce((acc, [k, v]) => set(k, v)(acc), p)

// -------------------------------------------------------------------------------------
// destructors
// -------------------------------------------------------------------------------------

/**
 * The value of `key`, if any.
 * @category destructors
 * @since 0.1.0
 */
export const lookup =
  (key: string) =>
  (p: Params): O.Option<string> =>
    O.fromNullable(reroot(node(p)).table.get(key)?.value)

/**
 * How many keys there are.
 * @category destructors
 * @since 0.1.0
 */
export const size = (p: Params): number => reroot(node(p)).table.size

/**
 * The keys under `prefix + "."`.
 * @category destructors
 * @since 0.1.0
 */
export const keysUnder =
  (prefix: string) =>
  (p: Params): ReadonlyArray<string> => {
    const start = `${prefix}.`
    return [...reroot(node(p)).table.keys()].filter((k) => k.startsWith(start))
  }

/**
 * The entries in insertion order.
 * @category destructors
 * @since 0.1.0
 */
export const toEntries = (p: Params): ReadonlyArray<Entry> =>
  [...reroot(node(p)).table.entries()]
    .sort(([, a], [, b]) => a.seq - b.seq)
    .map(([k, slot]): Entry => [k, slot.value])

/**
 * A plain object of the params, in insertion order.
 * @category destructors
 * @since 0.1.0
 */
export const toRecord = (p: Params): Readonly<Record<string, string>> => Object.fromEntries(toEntries(p))

/**
 * Params holding exactly these entries.
 * @category constructors
 * @since 0.1.0
 */
export const fromEntries = (entries: ReadonlyArray<Entry>): Params => setAll(entries)(empty)
