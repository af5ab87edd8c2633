/**
 * The bytes of structured artifacts, as MLflow's Python client writes them: dictionaries as
 * JSON (indented by 2) or YAML by extension (`log_dict`), tables in pandas' `split` layout
 * with the `mlflow.loggedArtifacts` tag that makes the UI show them as tables (`log_table`),
 * and an evaluation's results as `results.json`. Pure: the run handle stores what this
 * module encodes.
 *
 * @example
 * import { StructuredArtifacts } from 'charmory-track'
 *
 * const table = StructuredArtifacts.tableJson([{ image: 'a.png', label: 3 }, { image: 'b.png', label: 5 }])
 * // right('{"columns":["image","label"],"data":[["a.png",3],["b.png",5]]}')
 *
 * @since 0.2.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { describeUnknown, invalidValue, type TrackError } from './Errors.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * A table: rows (records of column to cell), or columns (records of column to cells, all of
 * one length), as `log_table` takes a list of rows or a dictionary of columns.
 * @category model
 * @since 0.2.0
 */
export type Table =
  | ReadonlyArray<Readonly<Record<string, unknown>>>
  | Readonly<Record<string, ReadonlyArray<unknown>>>

/**
 * A plain JSON value, as decoded by `JSON.parse`.
 * @category model
 * @since 0.2.0
 */
export type Json = null | boolean | number | string | ReadonlyArray<Json> | { readonly [key: string]: Json }

// -------------------------------------------------------------------------------------
// constants
// -------------------------------------------------------------------------------------

/**
 * Where `evaluate` stores a task's results.
 * @category constants
 * @since 0.2.0
 */
export const RESULTS_ARTIFACT = 'results.json'

/**
 * The run tag listing the tables of a run (`[{"path": ..., "type": "table"}]`).
 * @category constants
 * @since 0.2.0
 */
export const LOGGED_ARTIFACTS_TAG = 'mlflow.loggedArtifacts'

/**
 * The extensions `logImage` takes: those the MLflow UI previews.
 * @category constants
 * @since 0.2.0
 */
export const IMAGE_EXTENSIONS: ReadonlyArray<string> = ['.png', '.jpg', '.jpeg', '.gif', '.bmp', '.svg', '.webp', '.tif', '.tiff']

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

const extensionOf = (path: string): string => {
  const name = path.slice(path.lastIndexOf('/') + 1)
  const dot = name.lastIndexOf('.')
  return dot <= 0 ? '' : name.slice(dot).toLowerCase()
}


const noJsonForm = (field: string, kind: string): string =>
  field === '' ? `a ${kind} has no JSON form` : `the field ${JSON.stringify(field)} is a ${kind}, and a ${kind} has no JSON form`

/**
 * `value` as plain JSON: what `JSON.stringify` makes of it (dates by `toJSON`, `undefined`
 * members left out), bigints as strings, NaN and infinities as the strings `"NaN"`,
 * `"Infinity"`, `"-Infinity"` (as MLflow's REST API writes them). A cycle, or a value with no
 * JSON form (a function or a symbol, also as a field or an item: since 0.3.0), is an
 * `InvalidValue` naming `key` (and the field).
 * @category utils
 * @since 0.2.0
 */
export const toJson = (key: string, value: unknown): E.Either<TrackError, Json> => {
  let text: string | undefined
  try {
    text = JSON.stringify(value, (k, v: unknown) => {
      // JSON.stringify would drop them from a record without a word: refused, naming the field
      if (typeof v === 'function' || typeof v === 'symbol') throw new Error(noJsonForm(k, typeof v))
      return typeof v === 'bigint' ? String(v) : typeof v === 'number' && !Number.isFinite(v) ? String(v) : v
    })
  } catch (e) {
    return E.left(invalidValue(key, `cannot be written as JSON: ${describeUnknown(e)}`))
  }
  if (text === undefined) return E.left(invalidValue(key, `cannot be written as JSON: ${typeof value} has no JSON form`))
  return E.right(JSON.parse(text) as Json)
}

const PLAIN = /^[A-Za-z_][A-Za-z0-9_./-]*$/
const RESERVED = /^(true|false|null|yes|no|on|off|y|n|~)$/i

const yamlScalar = (v: null | boolean | number | string): string => {
  if (typeof v === 'string') return PLAIN.test(v) && !RESERVED.test(v) ? v : JSON.stringify(v)
  return String(v)
}

const isBlock = (v: Json): v is ReadonlyArray<Json> | { readonly [key: string]: Json } =>
  v !== null && typeof v === 'object' && Object.keys(v).length > 0

const inline = (v: Json): string => {
  if (v === null || typeof v !== 'object') return yamlScalar(v)
  return Array.isArray(v) ? '[]' : '{}'
}

const block = (v: ReadonlyArray<Json> | { readonly [key: string]: Json }, indent: string): Array<string> => {
  const entries: ReadonlyArray<readonly [string, Json]> = Array.isArray(v)
    ? (v as ReadonlyArray<Json>).map((item): readonly [string, Json] => ['-', item])
    : Object.entries(v).map(([k, item]): readonly [string, Json] => [`${yamlScalar(k)}:`, item])
  const out: Array<string> = []
  for (const [lead, item] of entries) {
    if (isBlock(item)) out.push(`${indent}${lead}`, ...block(item, `${indent}  `))
    else out.push(`${indent}${lead} ${inline(item)}`)
  }
  return out
}

/**
 * A JSON value as block-style YAML (strings quoted as JSON where a plain scalar could be
 * misread), newline-terminated; readable by any YAML 1.1 or 1.2 parser.
 * @category utils
 * @since 0.2.0
 */
export const yamlOf = (value: Json): string => `${isBlock(value) ? block(value, '').join('\n') : inline(value)}\n`

/**
 * The bytes `log_dict` writes at `path`: YAML for `.yaml` / `.yml`, JSON indented by 2
 * otherwise.
 * @category utils
 * @since 0.2.0
 */
export const dictText = (path: string, value: unknown): E.Either<TrackError, string> =>
  E.map((json: Json) => (['.yaml', '.yml'].includes(extensionOf(path)) ? yamlOf(json) : JSON.stringify(json, null, 2)))(
    toJson(path, value)
  )

/**
 * A table in the layout `log_table` writes (pandas' `to_json(orient="split", index=False)`):
 * `{"columns": [...], "data": [[...], ...]}`. Rows may leave columns out (their cells are
 * `null`); columns must be of one length.
 * @category utils
 * @since 0.2.0
 */
export const tableJson = (table: Table): E.Either<TrackError, string> => {
  let columns: Array<string>
  let data: Array<Array<unknown>>
  if (Array.isArray(table)) {
    const rows = table as ReadonlyArray<Readonly<Record<string, unknown>>>
    columns = []
    for (const [i, row] of rows.entries()) {
      if (typeof row !== 'object' || row === null || Array.isArray(row)) {
        return E.left(invalidValue(`rows/${i}`, 'a row is a record of column names to cells'))
      }
      for (const c of Object.keys(row)) if (!columns.includes(c)) columns.push(c)
    }
    // own fields only: a row without `constructor` has no cell there, not Object
    data = rows.map((row) => columns.map((c) => (Object.hasOwn(row, c) ? (row[c] ?? null) : null)))
  } else {
    const cols = table as Readonly<Record<string, ReadonlyArray<unknown>>>
    columns = Object.keys(cols)
    const lengths = new Set(columns.map((c) => (Array.isArray(cols[c]) ? (cols[c] as ReadonlyArray<unknown>).length : -1)))
    if (lengths.has(-1) || lengths.size > 1) {
      return E.left(invalidValue('columns', 'a table of columns maps each column name to an array, all of one length'))
    }
    const height = [...lengths][0] ?? 0
    data = Array.from({ length: height }, (_, i) => columns.map((c) => (cols[c] as ReadonlyArray<unknown>)[i] ?? null))
  }
  return E.map((json: Json) => JSON.stringify(json))(toJson('table', { columns, data }))
}

/**
 * The value of `mlflow.loggedArtifacts` once `path` is added as a table to `current` (the
 * tag's value so far, if any), written as Python's `json.dumps` writes it.
 * @category utils
 * @since 0.2.0
 */
export const loggedArtifactsWith = (current: string | undefined, path: string): string => {
  let list: Array<{ path: string; type: string }> = []
  try {
    const parsed: unknown = JSON.parse(current ?? '[]')
    if (Array.isArray(parsed)) {
      list = parsed.filter(
        (x): x is { path: string; type: string } =>
          typeof x === 'object' && x !== null && typeof x.path === 'string' && typeof x.type === 'string'
      )
    }
  } catch {
    list = []
  }
  if (!list.some((x) => x.path === path && x.type === 'table')) list.push({ path, type: 'table' })
  return `[${list.map((x) => `{"path": ${JSON.stringify(x.path)}, "type": ${JSON.stringify(x.type)}}`).join(', ')}]`
}

const ascii = (s: string): ReadonlyArray<number> => Array.from(s, (c) => c.charCodeAt(0))

/** How each image format begins (`undefined`: any byte); SVG is text and has no signature. */
const SIGNATURES: Readonly<Record<string, { readonly format: string; readonly starts: ReadonlyArray<ReadonlyArray<number | undefined>> }>> = {
  '.png': { format: 'PNG', starts: [[0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]] },
  '.jpg': { format: 'JPEG', starts: [[0xff, 0xd8, 0xff]] },
  '.jpeg': { format: 'JPEG', starts: [[0xff, 0xd8, 0xff]] },
  '.gif': { format: 'GIF', starts: [ascii('GIF87a'), ascii('GIF89a')] },
  '.bmp': { format: 'BMP', starts: [ascii('BM')] },
  '.webp': { format: 'WebP', starts: [[...ascii('RIFF'), undefined, undefined, undefined, undefined, ...ascii('WEBP')]] },
  '.tif': { format: 'TIFF', starts: [ascii('II*\0'), ascii('MM\0*'), ascii('II+\0'), ascii('MM\0+')] },
  '.tiff': { format: 'TIFF', starts: [ascii('II*\0'), ascii('MM\0*'), ascii('II+\0'), ascii('MM\0+')] }
}

/**
 * `bytes` if they begin as an image of `path`'s extension does (PNG, JPEG, GIF, BMP, WebP,
 * TIFF; SVG, which is text, is not checked), else an `InvalidValue` naming the path: bytes
 * stored as `x.png` that are not a PNG show as a broken image in the MLflow UI.
 * @category utils
 * @since 0.3.0
 */
export const checkImage = (path: string, bytes: Uint8Array): E.Either<TrackError, Uint8Array> => {
  const signature = SIGNATURES[extensionOf(path)]
  if (signature === undefined) return E.right(bytes)
  const fits = signature.starts.some((start) => bytes.length >= start.length && start.every((b, i) => b === undefined || bytes[i] === b))
  return fits ? E.right(bytes) : E.left(invalidValue(path, `the bytes are not a ${signature.format} image (they do not begin as one)`))
}

/**
 * `path` if it ends with an extension in `allowed`, else an `InvalidValue` naming it.
 * @category utils
 * @since 0.2.0
 */
export const checkExtension = (path: string, allowed: ReadonlyArray<string>, what: string): E.Either<TrackError, string> =>
  allowed.includes(extensionOf(path))
    ? E.right(path)
    : E.left(invalidValue(path, `${what} is stored at a path ending with ${allowed.join(', ')}`))
