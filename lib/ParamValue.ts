/**
 * How a JavaScript value becomes MLflow param strings, once, at the moment it is recorded.
 *
 * | value | recorded as |
 * | --- | --- |
 * | string | itself |
 * | number | `String(n)`: `42`, `0.5`, `NaN`, `Infinity`, `-Infinity` |
 * | boolean, null, bigint | `true` / `false`, `null`, decimal digits |
 * | undefined | alone (`trackParam('k', undefined)`): an `InvalidValue`; a field of an object: left out (not given); in an array: `null` |
 * | Date | ISO 8601 |
 * | array | JSON text |
 * | plain object | one key per leaf, joined with `.` (`f.optimizer.lr`); `{}` when empty |
 * | object with `toJSON` | its JSON (a string result as is) |
 * | typed array, Buffer, ArrayBuffer | a summary such as `Float32Array(1024)`, never the contents |
 * | function | its name (`anonymous` without one), alone or inside an object |
 * | symbol | an `InvalidValue`: a symbol has no text that means the same in another process |
 * | any other object | its class name |
 *
 * A cycle, or an invalid `Date`, is an `InvalidValue` naming the key path where it was found.
 * A field whose name names a secret (`password`, `hf_token`, `apiKey`, ... see `isSecretName`)
 * is recorded as `***`, and so is everything under it: secrets never reach a sink.
 *
 * @example
 * import { ParamValue } from 'charmory-track'
 * import * as E from 'fp-ts/lib/Either.js'
 *
 * assert.deepStrictEqual(
 *   ParamValue.toEntries('f', { lr: 0.1, layers: [64, 64], opt: { name: 'adam' } }),
 *   E.right([['f.lr', '0.1'], ['f.layers', '[64,64]'], ['f.opt.name', 'adam']])
 * )
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { describeUnknown, invalidValue, type TrackError } from './Errors.js'
import { keyProblem, shownKey } from './Key.js'
import { invalidKey } from './Errors.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * One recorded param: a key and its MLflow string value.
 * @category model
 * @since 0.1.0
 */
export type Entry = readonly [key: string, value: string]

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

// Raised inside the recursive walk and turned into a Left at its boundary: the walk is deep
// and short-circuits on the first fault, which an exception expresses without allocating an
// Either per node.
class Refused {
  constructor(readonly error: TrackError) {}
}

const isPlainObject = (v: object): v is Record<string, unknown> => {
  const proto: unknown = Object.getPrototypeOf(v)
  return proto === Object.prototype || proto === null
}

const hasToJSON = (v: object): v is { toJSON(): unknown } =>
  typeof (v as { toJSON?: unknown }).toJSON === 'function'

const className = (v: object): string => {
  const ctor: unknown = (v as { constructor?: unknown }).constructor
  return typeof ctor === 'function' && ctor.name !== '' ? ctor.name : 'Object'
}

const binarySummary = (v: object): string | undefined => {
  if (ArrayBuffer.isView(v)) {
    const length = 'length' in v && typeof v.length === 'number' ? v.length : v.byteLength
    return `${className(v)}(${length})`
  }
  if (v instanceof ArrayBuffer || (typeof SharedArrayBuffer === 'function' && v instanceof SharedArrayBuffer)) {
    return `${className(v)}(${v.byteLength})`
  }
  return undefined
}

/** The string of a value that is not walked into, or undefined for arrays and objects to walk. */
const leaf = (key: string, v: unknown): string | undefined => {
  switch (typeof v) {
    case 'string':
      return v
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(v)
    case 'symbol':
      throw new Refused(invalidValue(key, `a symbol (${v.toString()}) cannot be recorded: record a string`))
    case 'function':
      return v.name === '' ? 'anonymous' : v.name
  }
  if (v === null) return 'null'
  if (v instanceof Date) {
    if (Number.isNaN(v.getTime())) throw new Refused(invalidValue(key, 'the Date is invalid'))
    return v.toISOString()
  }
  return binarySummary(v as object)
}

const enter = (key: string, v: object, ancestors: ReadonlyArray<object>): ReadonlyArray<object> => {
  if (ancestors.includes(v)) throw new Refused(invalidValue(key, 'the value contains a cycle at this path'))
  return [...ancestors, v]
}

/** JSON text for a value inside an array (or returned by `toJSON`), by the same rules. */
const json = (key: string, v: unknown, ancestors: ReadonlyArray<object>): string => {
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : JSON.stringify(String(v))
  // JSON has no undefined: an array hole, or a `toJSON` that gives nothing, is null there.
  if (v === undefined || v === null) return 'null'
  if (typeof v === 'boolean') return String(v)
  if (typeof v !== 'object' || v instanceof Date) return JSON.stringify(leaf(key, v))
  const summary = binarySummary(v)
  if (summary !== undefined) return JSON.stringify(summary)
  const inner = enter(key, v, ancestors)
  if (Array.isArray(v)) {
    return `[${v.map((item: unknown, i) => json(`${key}.${i}`, item, inner)).join(',')}]`
  }
  if (hasToJSON(v)) return json(key, v.toJSON(), inner)
  if (!isPlainObject(v)) return JSON.stringify(className(v))
  const fields = Object.entries(v)
    .filter(([, item]) => item !== undefined)
    .map(([k, item]) => `${JSON.stringify(k)}:${json(`${key}.${k}`, item, inner)}`)
  return `{${fields.join(',')}}`
}

const walk = (key: string, v: unknown, ancestors: ReadonlyArray<object>, out: Array<Entry>, secret: boolean): void => {
  if (v !== undefined) record(key, keyProblem(key), v, ancestors, out, secret)
}

/** `walk` of a defined value whose key's problem (`undefined`: none) is already known. */
const record = (
  key: string,
  problem: string | undefined,
  v: unknown,
  ancestors: ReadonlyArray<object>,
  out: Array<Entry>,
  secret: boolean
): void => {
  if (problem !== undefined) throw new Refused(invalidKey(key, problem))
  if (secret && (typeof v !== 'object' || v === null || !isPlainObject(v))) {
    out.push([key, REDACTED])
    return
  }
  const text = leaf(key, v)
  if (text !== undefined) {
    out.push([key, text])
    return
  }
  const o = v as object
  if (Array.isArray(o)) {
    out.push([key, json(key, o, ancestors)])
  } else if (hasToJSON(o)) {
    const j = o.toJSON()
    out.push([key, typeof j === 'string' ? j : json(key, j, enter(key, o, ancestors))])
  } else if (!isPlainObject(o)) {
    out.push([key, className(o)])
  } else {
    const inner = enter(key, o, ancestors)
    const fields = Object.entries(o).filter(([, item]) => item !== undefined)
    if (fields.length === 0) out.push([key, '{}'])
    for (const [k, item] of fields) walk(`${key}.${k}`, item, inner, out, secret || isSecretName(k))
  }
}

/**
 * What a secret is recorded as.
 * @category constants
 * @since 0.1.0
 */
export const REDACTED = '***'

const SECRET_WORDS = new Set(['password', 'passwd', 'passphrase', 'pwd', 'secret', 'token', 'credential', 'credentials'])
const SECRET_PAIRS = new Set(['api key', 'access key', 'private key', 'auth key'])
const SECRET_HINT = /pass|pwd|secret|token|credential|key/

/**
 * Whether a name (a param's field name, the last part of a key) names a secret: one of its
 * words (split at `_`, `-`, `.`, spaces and camelCase) is `password`, `token`, `secret`,
 * `credentials`, ..., or two of them read `api key`, `access key`, `private key`. `max_tokens`
 * and `tokenizer` are not secrets; `hf_token`, `dbPassword` and `apiKey` are.
 *
 * @category utils
 * @since 0.1.0
 */
export const isSecretName = (name: string): boolean => {
  // Every secret word contains one of these; most names contain none and skip the split.
  if (!SECRET_HINT.test(name.toLowerCase())) return false
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
  return words.some((w, i) => SECRET_WORDS.has(w) || SECRET_PAIRS.has(`${w} ${words[i + 1] ?? ''}`))
}

/** What recording under a key needs to know of it: whether MLflow takes it, whether it names a secret. */
interface KeyFacts {
  readonly key: string
  readonly problem: string | undefined
  readonly secret: boolean
}

const factsOf = (key: string): KeyFacts => ({
  key,
  problem: keyProblem(key),
  secret: isSecretName(key.slice(key.lastIndexOf('.') + 1))
})

/** Appends the entries of `value` under `facts.key` to `out`; the error that stopped it, if any. */
const collect = (facts: KeyFacts, value: unknown, out: Array<Entry>): TrackError | undefined => {
  if (value === undefined) return undefined
  try {
    record(facts.key, facts.problem, value, [], out, facts.secret)
  } catch (e) {
    if (e instanceof Refused) return e.error
    // A getter or `toJSON` of the user's value threw: still a typed error, not an exception.
    return invalidValue(facts.key, `reading the value threw: ${describeUnknown(e)}`)
  }
  return undefined
}

// Option objects have a handful of names; a recorder fed ever new names stops remembering.
const MAX_KNOWN_NAMES = 256

/**
 * The entries that recording `value` under `key` produces: one per leaf for a plain object,
 * one otherwise. `undefined` is an `InvalidValue` naming the key (a param given no value is a
 * mistake worth a word; record `null` to say "none"). Every key is checked against MLflow's rules.
 *
 * @category constructors
 * @since 0.1.0
 */
export const toEntries = (key: string, value: unknown): E.Either<TrackError, ReadonlyArray<Entry>> => {
  if (typeof key !== 'string') return E.left(invalidKey(shownKey(key), keyProblem(key)!))
  if (value === undefined) return E.left(invalidValue(key, 'the value is undefined: record null to say "none", or leave the param out'))
  const out: Array<Entry> = []
  const refused = collect(factsOf(key), value, out)
  return refused === undefined ? E.right(out) : E.left(refused)
}

/**
 * The entries of every field of an options object under `prefix`, skipping the names in
 * `ignore` (exact matches) and fields that are `undefined`.
 *
 * @category constructors
 * @since 0.1.0
 */
export const fieldsToEntries = (
  prefix: string,
  fields: Readonly<Record<string, unknown>>,
  ignore: ReadonlyArray<string> = []
): E.Either<TrackError, ReadonlyArray<Entry>> => fieldsRecorder(prefix, ignore)(fields)

/**
 * `fieldsToEntries` for one `prefix` and `ignore`, as a function that remembers what it
 * learnt of each field name (its key, whether MLflow takes the key, whether it names a
 * secret): a wrapped function called in a loop checks each of its names once. The entries
 * and errors are exactly those of `fieldsToEntries`.
 *
 * @category constructors
 * @since 0.1.0
 */
export const fieldsRecorder = (
  prefix: string,
  ignore: ReadonlyArray<string> = []
): ((fields: Readonly<Record<string, unknown>>) => E.Either<TrackError, ReadonlyArray<Entry>>) => {
  // undefined: not seen yet; null: an ignored name
  const known = new Map<string, KeyFacts | null>()
  const factsOfName = (name: string): KeyFacts | null => {
    const seen = known.get(name)
    if (seen !== undefined) return seen
    const facts = ignore.includes(name) ? null : factsOf(`${prefix}.${name}`)
    if (known.size < MAX_KNOWN_NAMES) known.set(name, facts)
    return facts
  }
  return (fields) => {
    const out: Array<Entry> = []
    // Object.keys, not Object.entries: the same names in the same order, read as they come,
    // without an array per field (half the cost of a wrapped call)
    for (const name of Object.keys(fields)) {
      const value = fields[name]
      const facts = factsOfName(name)
      if (facts === null) continue
      const refused = collect(facts, value, out)
      if (refused !== undefined) return E.left(refused)
    }
    return E.right(out)
  }
}
