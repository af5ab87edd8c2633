/**
 * MLflow's search syntax, read and evaluated here so that the memory and local sinks answer a
 * query exactly as an MLflow server does, and so that a bad query fails before anything is
 * sent, with the column where it goes wrong.
 *
 * A filter is comparisons joined by `AND` (there is no `OR` and there are no parentheses,
 * as in MLflow):
 *
 * | left side | comparators | right side |
 * | --- | --- | --- |
 * | `metrics.<key>` | `=` `!=` `>` `>=` `<` `<=` | a number; compared with the latest value |
 * | `params.<key>`, `tags.<key>` | `=` `!=` `LIKE` `ILIKE`, `IS NULL`, `IS NOT NULL` | a quoted string |
 * | `attributes.status`, `run_name`, `user_id`, `run_id` | `=` `!=` `LIKE` `ILIKE` | a quoted string |
 * | `attributes.run_id` | `IN`, `NOT IN` | `('id1', 'id2')` |
 * | `attributes.start_time`, `end_time` (alias `created`) | `=` `!=` `>` `>=` `<` `<=` | milliseconds |
 *
 * Entity prefixes take MLflow's aliases (`metric`, `param`, `parameter`, `tag`, `attr`,
 * `attribute`, `run`; no prefix means an attribute); a key with other characters than
 * letters, digits, `_` and `.` is quoted with backticks or double quotes
 * (``metrics.`eval/acc` ``). Strings are in single or double quotes, without escapes. `LIKE`
 * is case-sensitive, `ILIKE` is not (ASCII letters); `%` matches any text and `_` one
 * character. Dataset filters and `artifact_uri` are not supported.
 *
 * An order-by clause is one key and an optional `ASC` or `DESC`. Runs without the key come
 * last either way (and for metrics, a NaN comes after every number); ties keep MLflow's
 * natural order: newest start first, then run id.
 *
 * @example
 * import { SearchFilter } from 'charmory-track'
 * import * as E from 'fp-ts/lib/Either.js'
 *
 * const parsed = SearchFilter.parseRunFilter("metrics.accuracy > 0.9 and params.model = 'resnet18'")
 * assert.ok(E.isRight(parsed) && parsed.right.length === 2)
 * const bad = SearchFilter.parseRunFilter('metrics.accuracy > high')
 * assert.ok(E.isLeft(bad) && bad.left._tag === 'InvalidQuery' && bad.left.column === 20)
 *
 * @since 0.2.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { invalidQuery, invalidValue, type TrackError } from './Errors.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * What a comparison looks at.
 * @category model
 * @since 0.2.0
 */
export type EntityKind = 'metric' | 'param' | 'tag' | 'attribute'

/**
 * The comparators a filter may use (which ones apply to which entity: see the module's table).
 * @category model
 * @since 0.2.0
 */
export type Comparator = '=' | '!=' | '>' | '>=' | '<' | '<=' | 'LIKE' | 'ILIKE' | 'IN' | 'NOT IN' | 'IS NULL' | 'IS NOT NULL'

/**
 * One comparison of a filter; `key` of an attribute is its canonical name (`start_time`
 * for `created`).
 * @category model
 * @since 0.2.0
 */
export interface Clause {
  readonly kind: EntityKind
  readonly key: string
  readonly comparator: Comparator
  readonly value: string | number | ReadonlyArray<string> | undefined
}

/**
 * One order-by clause.
 * @category model
 * @since 0.2.0
 */
export interface Order {
  readonly kind: EntityKind
  readonly key: string
  readonly ascending: boolean
}

/**
 * What a filter or an ordering reads from one run or experiment: `undefined` when it has no
 * such key.
 * @category model
 * @since 0.2.0
 */
export type Lookup = (kind: EntityKind, key: string) => string | number | undefined

type AttributeType = 'string' | 'number' | 'id'

interface Schema {
  readonly what: string
  readonly entities: Readonly<Record<string, EntityKind>>
  readonly attributes: Readonly<Record<string, readonly [string, AttributeType]>>
  readonly unsupported: Readonly<Record<string, string>>
  readonly nullable: ReadonlyArray<EntityKind>
}

const runSchema: Schema = {
  what: 'runs',
  entities: {
    metric: 'metric',
    metrics: 'metric',
    param: 'param',
    params: 'param',
    parameter: 'param',
    parameters: 'param',
    tag: 'tag',
    tags: 'tag',
    attribute: 'attribute',
    attributes: 'attribute',
    attr: 'attribute',
    run: 'attribute'
  },
  attributes: {
    run_id: ['run_id', 'id'],
    run_name: ['run_name', 'string'],
    'run name': ['run_name', 'string'],
    'Run name': ['run_name', 'string'],
    'Run Name': ['run_name', 'string'],
    status: ['status', 'string'],
    user_id: ['user_id', 'string'],
    start_time: ['start_time', 'number'],
    created: ['start_time', 'number'],
    Created: ['start_time', 'number'],
    end_time: ['end_time', 'number']
  },
  unsupported: {
    dataset: 'dataset filters are not supported',
    datasets: 'dataset filters are not supported',
    artifact_uri: 'the attribute artifact_uri is not supported'
  },
  nullable: ['param', 'tag']
}

const experimentSchema: Schema = {
  what: 'experiments',
  entities: { attribute: 'attribute', attributes: 'attribute', tag: 'tag', tags: 'tag' },
  attributes: {
    experiment_id: ['experiment_id', 'id'],
    name: ['name', 'string'],
    creation_time: ['creation_time', 'number'],
    last_update_time: ['last_update_time', 'number']
  },
  unsupported: {},
  nullable: ['tag']
}

// -------------------------------------------------------------------------------------
// tokens
// -------------------------------------------------------------------------------------

type Token =
  | { readonly t: 'name'; readonly at: number; readonly parts: ReadonlyArray<{ readonly text: string; readonly quote: string }> }
  | { readonly t: 'string'; readonly at: number; readonly text: string }
  | { readonly t: 'number'; readonly at: number; readonly value: number }
  | { readonly t: 'op' | 'punct'; readonly at: number; readonly text: string }
  | { readonly t: 'end'; readonly at: number }

const NUMBER = /-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?/y
const BARE = /[A-Za-z0-9_]+/y
const OP = /<=|>=|!=|<>|=|<|>/y

const quoted = (s: string, at: number, quote: string): E.Either<readonly [string, number], string> => {
  const close = s.indexOf(quote, at + 1)
  return close === -1 ? E.right(`the quote ${quote} is not closed`) : E.left([s.slice(at + 1, close), close + 1])
}

const sticky = (re: RegExp, s: string, at: number): string | undefined => {
  re.lastIndex = at
  return re.exec(s)?.[0]
}

/** The tokens of `s`, or the column and reason of the first character that starts none. */
const tokenize = (s: string): E.Either<readonly [number, string], ReadonlyArray<Token>> => {
  const tokens: Array<Token> = []
  let i = 0
  while (i < s.length) {
    const c = s.charAt(i)
    if (/\s/.test(c)) {
      i++
      continue
    }
    const start = i
    if (c === "'") {
      const q = quoted(s, i, c)
      if (E.isRight(q)) return E.left([start, q.right])
      tokens.push({ t: 'string', at: start, text: q.left[0] })
      i = q.left[1]
      continue
    }
    const number = /[-.\d]/.test(c) ? sticky(NUMBER, s, i) : undefined
    if (number !== undefined) {
      tokens.push({ t: 'number', at: start, value: Number(number) })
      i += number.length
      continue
    }
    const op = sticky(OP, s, i)
    if (op !== undefined) {
      tokens.push({ t: 'op', at: start, text: op })
      i += op.length
      continue
    }
    if ('(),'.includes(c)) {
      tokens.push({ t: 'punct', at: start, text: c })
      i++
      continue
    }
    // a name: bare or quoted parts joined by dots, as metrics.`eval/acc` or tags.mlflow.user
    const parts: Array<{ text: string; quote: string }> = []
    for (;;) {
      const ch = s.charAt(i)
      if (ch === '`' || ch === '"') {
        const q = quoted(s, i, ch)
        if (E.isRight(q)) return E.left([i, q.right])
        parts.push({ text: q.left[0], quote: ch })
        i = q.left[1]
      } else {
        const bare = sticky(BARE, s, i)
        if (bare === undefined) return E.left([i, `unexpected ${JSON.stringify(ch === '' ? 'end' : ch)}`])
        parts.push({ text: bare, quote: '' })
        i += bare.length
      }
      if (s.charAt(i) !== '.') break
      i++
    }
    tokens.push({ t: 'name', at: start, parts })
  }
  tokens.push({ t: 'end', at: s.length })
  return E.right(tokens)
}

const keyword = (token: Token, word: string): boolean =>
  token.t === 'name' && token.parts.length === 1 && token.parts[0]!.quote === '' && token.parts[0]!.text.toUpperCase() === word

const shown = (token: Token, s: string): string => (token.t === 'end' ? 'the end' : JSON.stringify(s.slice(token.at).split(/\s/)[0]))

// -------------------------------------------------------------------------------------
// parsing
// -------------------------------------------------------------------------------------

type Failure = readonly [number, string]

const own = <A>(record: Readonly<Record<string, A>>, key: string): A | undefined => (Object.hasOwn(record, key) ? record[key] : undefined)

const fail = (at: number, reason: string): E.Either<Failure, never> => E.left([at, reason])

/** The entity and canonical key a name refers to, with its attribute type. */
const identify = (
  schema: Schema,
  token: Token,
  s: string
): E.Either<Failure, { kind: EntityKind; key: string; type: AttributeType | undefined }> => {
  if (token.t !== 'name') return fail(token.at, `expected a key such as metrics.accuracy, found ${shown(token, s)}`)
  const [head, ...rest] = token.parts
  const entity = rest.length === 0 ? 'attribute' : head!.text
  const key = rest.length === 0 ? head!.text : rest.map((p) => p.text).join('.')
  const kind = own(schema.entities, entity)
  const unsupported = own(schema.unsupported, entity) ?? (kind === 'attribute' ? own(schema.unsupported, key) : undefined)
  if (unsupported !== undefined) return fail(token.at, unsupported)
  if (kind === undefined) {
    return fail(token.at, `unknown entity ${JSON.stringify(entity)}: expected one of ${Object.keys(schema.entities).join(', ')}`)
  }
  if (kind !== 'attribute') return E.right({ kind, key, type: undefined })
  const attribute = own(schema.attributes, key)
  if (attribute === undefined) {
    return fail(token.at, `unknown attribute ${JSON.stringify(key)} of ${schema.what}: expected one of ${Object.keys(schema.attributes).join(', ')}`)
  }
  return E.right({ kind, key: attribute[0], type: attribute[1] })
}

const NUMERIC: ReadonlyArray<Comparator> = ['=', '!=', '>', '>=', '<', '<=']
const TEXT: ReadonlyArray<Comparator> = ['=', '!=', 'LIKE', 'ILIKE']

/** The comparators allowed on a left side. */
const allowed = (schema: Schema, kind: EntityKind, type: AttributeType | undefined): ReadonlyArray<Comparator> => {
  if (kind === 'metric' || type === 'number') return NUMERIC
  if (type === 'id') return [...TEXT, 'IN', 'NOT IN']
  return schema.nullable.includes(kind) ? [...TEXT, 'IS NULL', 'IS NOT NULL'] : TEXT
}

/** Reads the comparator at `i`; yields it and the index after it. */
const comparatorAt = (tokens: ReadonlyArray<Token>, i: number): readonly [Comparator, number] | undefined => {
  const token = tokens[i]!
  if (token.t === 'op') return token.text === '<>' ? undefined : [token.text as Comparator, i + 1]
  for (const word of ['LIKE', 'ILIKE', 'IN'] as const) if (keyword(token, word)) return [word, i + 1]
  if (keyword(token, 'NOT') && keyword(tokens[i + 1]!, 'IN')) return ['NOT IN', i + 2]
  if (keyword(token, 'IS') && keyword(tokens[i + 1]!, 'NULL')) return ['IS NULL', i + 2]
  if (keyword(token, 'IS') && keyword(tokens[i + 1]!, 'NOT') && keyword(tokens[i + 2]!, 'NULL')) return ['IS NOT NULL', i + 3]
  return undefined
}

const stringOf = (token: Token): string | undefined =>
  token.t === 'string' ? token.text : token.t === 'name' && token.parts.length === 1 && token.parts[0]!.quote === '"' ? token.parts[0]!.text : undefined

/** A parenthesized list of strings at `i`; yields it and the index after it. */
const listAt = (tokens: ReadonlyArray<Token>, i: number, s: string): E.Either<Failure, readonly [ReadonlyArray<string>, number]> => {
  const open = tokens[i]!
  if (open.t !== 'punct' || open.text !== '(') return fail(open.at, `expected a list such as ('a', 'b'), found ${shown(open, s)}`)
  const values: Array<string> = []
  let j = i + 1
  for (;;) {
    const token = tokens[j]!
    const value = stringOf(token)
    if (value === undefined) return fail(token.at, `expected a quoted string in the list, found ${shown(token, s)}`)
    values.push(value)
    const next = tokens[j + 1]!
    const after = tokens[j + 2]!
    if (next.t === 'punct' && next.text === ')') return E.right([values, j + 2])
    if (next.t !== 'punct' || next.text !== ',') return fail(next.at, `expected , or ) in the list, found ${shown(next, s)}`)
    // a trailing comma, as in ('a',)
    if (after.t === 'punct' && after.text === ')') return E.right([values, j + 3])
    j += 2
  }
}

/** One comparison starting at `i`; yields it and the index after it. */
const comparisonAt = (schema: Schema, tokens: ReadonlyArray<Token>, i: number, s: string): E.Either<Failure, readonly [Clause, number]> => {
  const left = identify(schema, tokens[i]!, s)
  if (E.isLeft(left)) return left
  const { kind, key, type } = left.right
  const opToken = tokens[i + 1]!
  const read = comparatorAt(tokens, i + 1)
  const ok = allowed(schema, kind, type)
  if (read === undefined || !ok.includes(read[0])) {
    return fail(opToken.at, `expected a comparator for ${kind === 'attribute' ? key : `a ${kind}`} (${ok.join(', ')}), found ${shown(opToken, s)}`)
  }
  const [comparator, j] = read
  if (comparator === 'IS NULL' || comparator === 'IS NOT NULL') return E.right([{ kind, key, comparator, value: undefined }, j])
  if (comparator === 'IN' || comparator === 'NOT IN') {
    const list = listAt(tokens, j, s)
    return E.isLeft(list) ? list : E.right([{ kind, key, comparator, value: list.right[0] }, list.right[1]])
  }
  const valueToken = tokens[j]!
  if (kind === 'metric' || type === 'number') {
    return valueToken.t === 'number'
      ? E.right([{ kind, key, comparator, value: valueToken.value }, j + 1])
      : fail(valueToken.at, `expected a number, found ${shown(valueToken, s)}`)
  }
  const value = stringOf(valueToken)
  return value === undefined
    ? fail(valueToken.at, `expected a quoted string such as 'value', found ${shown(valueToken, s)}`)
    : E.right([{ kind, key, comparator, value }, j + 1])
}

const parseFilter = (schema: Schema, s: string): E.Either<TrackError, ReadonlyArray<Clause>> => {
  const run = (): E.Either<Failure, ReadonlyArray<Clause>> => {
    const tokens = tokenize(s)
    if (E.isLeft(tokens)) return tokens
    const ts = tokens.right
    const clauses: Array<Clause> = []
    if (ts[0]!.t === 'end') return E.right(clauses)
    let next: Token
    let i = 0
    do {
      const c = comparisonAt(schema, ts, i, s)
      if (E.isLeft(c)) return c
      clauses.push(c.right[0])
      next = ts[c.right[1]]!
      i = c.right[1] + 1
    } while (keyword(next, 'AND'))
    return next.t === 'end' ? E.right(clauses) : fail(next.at, `expected AND or the end, found ${shown(next, s)} (MLflow filters have no OR)`)
  }
  const parsed = run()
  return E.isLeft(parsed) ? E.left(invalidQuery(s, parsed.left[0] + 1, parsed.left[1])) : E.right(parsed.right)
}

const parseOrder = (schema: Schema, s: string): E.Either<TrackError, Order> => {
  const run = (): E.Either<Failure, Order> => {
    const tokens = tokenize(s)
    if (E.isLeft(tokens)) return tokens
    const ts = tokens.right
    const left = identify(schema, ts[0]!, s)
    if (E.isLeft(left)) return left
    const direction = ts[1]!
    const ascending = keyword(direction, 'DESC') ? false : true
    const end = keyword(direction, 'ASC') || keyword(direction, 'DESC') ? ts[2]! : direction
    if (end.t !== 'end') return fail(end.at, `expected ASC, DESC or the end, found ${shown(end, s)}`)
    return E.right({ kind: left.right.kind, key: left.right.key, ascending })
  }
  const parsed = run()
  return E.isLeft(parsed) ? E.left(invalidQuery(s, parsed.left[0] + 1, parsed.left[1])) : E.right(parsed.right)
}

const parseOrders = (schema: Schema, clauses: ReadonlyArray<string>): E.Either<TrackError, ReadonlyArray<Order>> => {
  const orders: Array<Order> = []
  for (const clause of clauses) {
    const order = parseOrder(schema, clause)
    if (E.isLeft(order)) return order
    if (orders.some((o) => o.kind === order.right.kind && o.key === order.right.key)) {
      return E.left(invalidQuery(clause, 1, 'this key is already in the ordering'))
    }
    orders.push(order.right)
  }
  return E.right(orders)
}

/**
 * Reads a run filter (see the module's description); an empty filter matches every run.
 * @category destructors
 * @since 0.2.0
 */
export const parseRunFilter = (filter: string): E.Either<TrackError, ReadonlyArray<Clause>> => parseFilter(runSchema, filter)

/**
 * Reads the order-by clauses of a run search, such as `['metrics.accuracy DESC', 'params.lr']`.
 * @category destructors
 * @since 0.2.0
 */
export const parseRunOrder = (orderBy: ReadonlyArray<string>): E.Either<TrackError, ReadonlyArray<Order>> =>
  parseOrders(runSchema, orderBy)

/**
 * Reads an experiment filter: `name`, `experiment_id`, `creation_time`, `last_update_time`
 * and `tags.<key>`.
 * @category destructors
 * @since 0.2.0
 */
export const parseExperimentFilter = (filter: string): E.Either<TrackError, ReadonlyArray<Clause>> =>
  parseFilter(experimentSchema, filter)

/**
 * Reads the order-by clauses of an experiment search.
 * @category destructors
 * @since 0.2.0
 */
export const parseExperimentOrder = (orderBy: ReadonlyArray<string>): E.Either<TrackError, ReadonlyArray<Order>> =>
  parseOrders(experimentSchema, orderBy)

// -------------------------------------------------------------------------------------
// evaluation
// -------------------------------------------------------------------------------------

const asciiLower = (s: string): string => s.replace(/[A-Z]/g, (c) => c.toLowerCase())

/** SQL's LIKE: `%` any text, `_` one character, everything else literal. */
const like = (text: string, pattern: string): boolean =>
  new RegExp(`^${[...pattern].map((c) => (c === '%' ? '.*' : c === '_' ? '.' : c.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&'))).join('')}$`, 'su').test(
    text
  )

const compare = (comparator: Comparator, lhs: string | number, rhs: string | number | ReadonlyArray<string>): boolean => {
  switch (comparator) {
    case '=':
      return lhs === rhs
    case '!=':
      return lhs !== rhs
    case '>':
      return lhs > rhs
    case '>=':
      return lhs >= rhs
    case '<':
      return lhs < rhs
    case '<=':
      return lhs <= rhs
    case 'LIKE':
      return like(String(lhs), String(rhs))
    case 'ILIKE':
      return like(asciiLower(String(lhs)), asciiLower(String(rhs)))
    case 'IN':
      return (rhs as ReadonlyArray<string>).includes(String(lhs))
    default:
      return !(rhs as ReadonlyArray<string>).includes(String(lhs))
  }
}

/**
 * Whether the thing `lookup` reads satisfies every clause. A missing key satisfies only
 * `IS NULL`; a NaN metric only `!=`.
 * @category constructors
 * @since 0.2.0
 */
export const matches = (clauses: ReadonlyArray<Clause>, lookup: Lookup): boolean =>
  clauses.every((c) => {
    const lhs = lookup(c.kind, c.key)
    if (c.comparator === 'IS NULL' || c.comparator === 'IS NOT NULL') return (lhs === undefined) === (c.comparator === 'IS NULL')
    return lhs !== undefined && compare(c.comparator, lhs, c.value as string | number | ReadonlyArray<string>)
  })

/** 0 for a value, 1 for NaN, 2 for none: MLflow puts NaN after numbers and missing keys last. */
const rank = (v: string | number | undefined): number => (v === undefined ? 2 : typeof v === 'number' && Number.isNaN(v) ? 1 : 0)

/** Ids that are numbers (MLflow's experiments) compare as numbers; other text by code unit. */
const byValue = (a: string | number, b: string | number): number => {
  const x = typeof a === 'string' && /^\d+$/.test(a) && typeof b === 'string' && /^\d+$/.test(b) ? [Number(a), Number(b)] : [a, b]
  return x[0]! < x[1]! ? -1 : x[0]! > x[1]! ? 1 : 0
}

/**
 * A comparison of things by `orders`, then by `fallback` (MLflow's natural order).
 * @category constructors
 * @since 0.2.0
 */
export const ordering =
  <A>(orders: ReadonlyArray<Order>, lookup: (a: A) => Lookup) =>
  (a: A, b: A): number => {
    for (const o of orders) {
      const va = lookup(a)(o.kind, o.key)
      const vb = lookup(b)(o.kind, o.key)
      const byRank = rank(va) - rank(vb)
      if (byRank !== 0) return byRank
      if (rank(va) !== 0) continue
      const c = byValue(va!, vb!)
      if (c !== 0) return o.ascending ? c : -c
    }
    return 0
  }

/**
 * Runs' orders with MLflow's natural order appended: start time descending unless ordered on,
 * then run id.
 * @category constructors
 * @since 0.2.0
 */
export const withRunTieBreak = (orders: ReadonlyArray<Order>): ReadonlyArray<Order> => [
  ...orders,
  ...(orders.some((o) => o.kind === 'attribute' && o.key === 'start_time') ? [] : [{ kind: 'attribute', key: 'start_time', ascending: false } as const]),
  { kind: 'attribute', key: 'run_id', ascending: true }
]

/**
 * Experiments' orders: creation time descending then id when none is given; the id breaks
 * ties.
 * @category constructors
 * @since 0.2.0
 */
export const withExperimentTieBreak = (orders: ReadonlyArray<Order>): ReadonlyArray<Order> => {
  const given: ReadonlyArray<Order> =
    orders.length > 0
      ? orders
      : [
          { kind: 'attribute', key: 'creation_time', ascending: false },
          { kind: 'attribute', key: 'experiment_id', ascending: true }
        ]
  return given.some((o) => o.kind === 'attribute' && o.key === 'experiment_id')
    ? given
    : [...given, { kind: 'attribute', key: 'experiment_id', ascending: false }]
}

// -------------------------------------------------------------------------------------
// paging
// -------------------------------------------------------------------------------------

/**
 * MLflow's default and largest page sizes of a search.
 * @category utils
 * @since 0.2.0
 */
export const PAGE = { default: 1000, max: 50_000 } as const

/**
 * A page of `items` and the token of the next one, in MLflow's own token format (base64 of
 * `{"offset": n}`).
 * @category utils
 * @since 0.2.0
 */
export const page = <A>(
  items: ReadonlyArray<A>,
  maxResults: number | undefined,
  pageToken: string | undefined,
  max: number = PAGE.max
): E.Either<TrackError, { readonly items: ReadonlyArray<A>; readonly nextPageToken: string | undefined }> => {
  const size = maxResults ?? PAGE.default
  if (!Number.isSafeInteger(size) || size < 1 || size > max) {
    return E.left(invalidValue('maxResults', `a page holds 1 to ${max} results, not ${size}`))
  }
  let offset = 0
  if (pageToken !== undefined && pageToken !== '') {
    try {
      offset = (JSON.parse(atob(pageToken)) as { offset?: unknown }).offset as number
    } catch {
      offset = NaN
    }
    if (!Number.isSafeInteger(offset) || offset < 0) return E.left(invalidValue('pageToken', 'not a token this search gave'))
  }
  const end = offset + size
  return E.right({
    items: items.slice(offset, end),
    nextPageToken: end < items.length ? btoa(JSON.stringify({ offset: end })) : undefined
  })
}
