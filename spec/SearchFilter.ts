import t from 'tap'
import * as E from 'fp-ts/lib/Either.js'
import { Errors, SearchFilter } from 'charmory-track'

const {
  matches,
  ordering,
  page,
  parseExperimentFilter,
  parseExperimentOrder,
  parseRunFilter,
  parseRunOrder,
  withExperimentTieBreak,
  withRunTieBreak
} = SearchFilter
type Clause = SearchFilter.Clause
type Lookup = SearchFilter.Lookup
type Order = SearchFilter.Order

const right = <A>(r: E.Either<Errors.TrackError, A>): A => {
  if (E.isLeft(r)) throw new Error(`expected success, got ${Errors.describeError(r.left)}`)
  return r.right
}

/** Where and why a query is refused. */
const refusal = (r: E.Either<Errors.TrackError, unknown>): readonly [number, string] | string => {
  if (E.isRight(r)) return 'accepted'
  return r.left._tag === 'InvalidQuery' ? [r.left.column, r.left.reason] : r.left._tag
}

t.test('a filter reads every form of MLflow search syntax', async (t) => {
  const parsed = right(
    parseRunFilter(
      "metrics.accuracy > 0.9 and params.model = 'resnet18' AND tags.stage != \"dev\" and attributes.status = 'FINISHED' " +
        "and metrics.`eval/a` >= -1e3 and metric.b<.5 and params.name LIKE 'res%' and tags.`mlflow.user` ilike 'ADA' " +
        "and attributes.run_id IN ('a', 'b') and run_id not in ('c',) and params.x IS NULL and tags.y is not null " +
        "and created <= 1700000000000 and end_time < 2 and `Run Name` = 'first' and tags.mlflow.runName = 'r' " +
        "and user_id = 'ada' and param.p = 'q' and parameters.p2 = 'q' and tag.t = 'u' and attr.run_name = 'n' and run.status != 'FAILED'"
    )
  )
  const clauses: ReadonlyArray<Clause> = [
    { kind: 'metric', key: 'accuracy', comparator: '>', value: 0.9 },
    { kind: 'param', key: 'model', comparator: '=', value: 'resnet18' },
    { kind: 'tag', key: 'stage', comparator: '!=', value: 'dev' },
    { kind: 'attribute', key: 'status', comparator: '=', value: 'FINISHED' },
    { kind: 'metric', key: 'eval/a', comparator: '>=', value: -1000 },
    { kind: 'metric', key: 'b', comparator: '<', value: 0.5 },
    { kind: 'param', key: 'name', comparator: 'LIKE', value: 'res%' },
    { kind: 'tag', key: 'mlflow.user', comparator: 'ILIKE', value: 'ADA' },
    { kind: 'attribute', key: 'run_id', comparator: 'IN', value: ['a', 'b'] },
    { kind: 'attribute', key: 'run_id', comparator: 'NOT IN', value: ['c'] },
    { kind: 'param', key: 'x', comparator: 'IS NULL', value: undefined },
    { kind: 'tag', key: 'y', comparator: 'IS NOT NULL', value: undefined },
    { kind: 'attribute', key: 'start_time', comparator: '<=', value: 1700000000000 },
    { kind: 'attribute', key: 'end_time', comparator: '<', value: 2 },
    { kind: 'attribute', key: 'run_name', comparator: '=', value: 'first' },
    { kind: 'tag', key: 'mlflow.runName', comparator: '=', value: 'r' },
    { kind: 'attribute', key: 'user_id', comparator: '=', value: 'ada' },
    { kind: 'param', key: 'p', comparator: '=', value: 'q' },
    { kind: 'param', key: 'p2', comparator: '=', value: 'q' },
    { kind: 'tag', key: 't', comparator: '=', value: 'u' },
    { kind: 'attribute', key: 'run_name', comparator: '=', value: 'n' },
    { kind: 'attribute', key: 'status', comparator: '!=', value: 'FAILED' }
  ]
  t.strictSame(parsed, clauses)
  t.strictSame(right(parseRunFilter('')), [])
  t.strictSame(right(parseRunFilter('   ')), [])
})

t.test('a filter that cannot be read is an InvalidQuery naming the column and what was expected', async (t) => {
  const cases: ReadonlyArray<readonly [string, number, RegExp]> = [
    ['metrics.a > 1 or metrics.b > 2', 15, /expected AND or the end, found "or" \(MLflow filters have no OR\)/],
    ["params.a = 'x' and", 19, /expected a key such as metrics\.accuracy, found the end/],
    ["params.a = 'x", 12, /the quote ' is not closed/],
    ['metrics.`a = 1', 9, /the quote ` is not closed/],
    ['metrics. > 1', 9, /unexpected " "/],
    ['metrics.', 9, /unexpected "end"/],
    ["params.eval/a = 'x'", 12, /unexpected "\/"/],
    ['metrics.a > +1', 13, /unexpected "\+"/],
    ["(params.a = 'x')", 1, /expected a key such as metrics\.accuracy, found "\(params\.a"/],
    ["foo.bar = 'x'", 1, /unknown entity "foo": expected one of metric, metrics, param/],
    ["constructor.x = 'a'", 1, /unknown entity "constructor"/],
    ["bogus = 'x'", 1, /unknown attribute "bogus" of runs: expected one of run_id, run_name/],
    ["attributes.toString = 'x'", 1, /unknown attribute "toString"/],
    ["datasets.name = 'x'", 1, /dataset filters are not supported/],
    ["artifact_uri = 'x'", 1, /the attribute artifact_uri is not supported/],
    ["attributes.artifact_uri = 'x'", 1, /the attribute artifact_uri is not supported/],
    ["metrics.x = '1'", 13, /expected a number, found "'1'"/],
    ["start_time > 'yesterday'", 14, /expected a number/],
    ['params.x = 1', 12, /expected a quoted string such as 'value', found "1"/],
    ['params.x = `y`', 12, /expected a quoted string/],
    ['params.x = a.b', 12, /expected a quoted string/],
    ["tags.a <> 'b'", 8, /expected a comparator for a tag \(=, !=, LIKE, ILIKE, IS NULL, IS NOT NULL\), found "<>"/],
    ['metrics.a LIKE 1', 11, /expected a comparator for a metric \(=, !=, >, >=, <, <=\)/],
    ["attributes.status IN ('A')", 19, /expected a comparator for status \(=, !=, LIKE, ILIKE\), found "IN"/],
    ["status > 'A'", 8, /expected a comparator for status/],
    ['metrics.a IS NULL', 11, /expected a comparator for a metric/],
    ["params.a IN ('x')", 10, /expected a comparator for a param/],
    ['params.a IS', 10, /expected a comparator/],
    ["params.a NOT 'x'", 10, /expected a comparator/],
    ["run_id IN 'a'", 11, /expected a list such as \('a', 'b'\), found "'a'"/],
    ['run_id IN (1)', 12, /expected a quoted string in the list, found "1\)"/],
    ["run_id IN ('a' 'b')", 16, /expected , or \) in the list, found "'b'\)"/],
    ["run_id IN ('a',", 16, /expected a quoted string in the list, found the end/],
    ["metrics.a > 1 params.b = 'x'", 15, /expected AND or the end/]
  ]
  for (const [filter, column, reason] of cases) {
    const r = parseRunFilter(filter)
    t.match(refusal(r), [column, reason], filter)
    if (E.isLeft(r)) t.equal(Errors.describeError(r.left), `invalid query ${JSON.stringify(filter)} at column ${column}: ${(r.left as { reason: string }).reason}`)
  }
})

t.test('an ordering is a key and a direction; a key ordered twice is refused', async (t) => {
  t.match(refusal(parseRunOrder(['attributes.start_time asc', 'created desc'])), [1, /already in the ordering/])
  t.strictSame(right(parseRunOrder(['metrics.accuracy DESC', 'params.lr', 'tags.t ASC', '`Run name`'])), [
    { kind: 'metric', key: 'accuracy', ascending: false },
    { kind: 'param', key: 'lr', ascending: true },
    { kind: 'tag', key: 't', ascending: true },
    { kind: 'attribute', key: 'run_name', ascending: true }
  ])
  t.match(refusal(parseRunOrder(['metrics.a DESC extra'])), [16, /expected ASC, DESC or the end, found "extra"/])
  t.match(refusal(parseRunOrder(['metrics.a sideways'])), [11, /expected ASC, DESC or the end/])
  t.match(refusal(parseRunOrder(['metrics.`a'])), [9, /not closed/])
  t.match(refusal(parseRunOrder(['nope.a'])), [1, /unknown entity "nope"/])
  t.match(refusal(parseRunOrder(['artifact_uri'])), [1, /not supported/])
})

t.test('experiment filters and orderings have their own keys', async (t) => {
  t.strictSame(
    right(parseExperimentFilter("name LIKE 'eval%' and experiment_id IN ('1', '2') and creation_time > 5 and tags.team = 'a' and tags.x IS NULL")),
    [
      { kind: 'attribute', key: 'name', comparator: 'LIKE', value: 'eval%' },
      { kind: 'attribute', key: 'experiment_id', comparator: 'IN', value: ['1', '2'] },
      { kind: 'attribute', key: 'creation_time', comparator: '>', value: 5 },
      { kind: 'tag', key: 'team', comparator: '=', value: 'a' },
      { kind: 'tag', key: 'x', comparator: 'IS NULL', value: undefined }
    ]
  )
  t.match(refusal(parseExperimentFilter("metrics.a > 1")), [1, /unknown entity "metrics": expected one of attribute, attributes, tag, tags/])
  t.match(refusal(parseExperimentFilter("status = 'x'")), [1, /unknown attribute "status" of experiments/])
  t.match(refusal(parseExperimentFilter("name IS NULL")), [6, /expected a comparator for name/])
  t.strictSame(right(parseExperimentOrder(['name DESC', 'last_update_time'])), [
    { kind: 'attribute', key: 'name', ascending: false },
    { kind: 'attribute', key: 'last_update_time', ascending: true }
  ])
})

const lookupOf =
  (values: Readonly<Record<string, string | number>>): Lookup =>
  (kind, key) =>
    values[`${kind}:${key}`]

const sees = (filter: string, values: Readonly<Record<string, string | number>>): boolean =>
  matches(right(parseRunFilter(filter)), lookupOf(values))

t.test('comparisons: strings exactly, numbers as numbers, a missing key never matches but IS NULL', async (t) => {
  const run = { 'metric:acc': 0.9, 'metric:nan': NaN, 'param:model': 'ResNet_18', 'tag:t': 'a.b', 'attribute:run_id': 'r1', 'attribute:start_time': 10 }
  const truths: ReadonlyArray<readonly [string, boolean]> = [
    ['metrics.acc > 0.5', true],
    ['metrics.acc >= 0.9', true],
    ['metrics.acc < 0.9', false],
    ['metrics.acc <= 0.9', true],
    ['metrics.acc = 0.9', true],
    ['metrics.acc != 0.9', false],
    ['metrics.missing != 1', false],
    ['metrics.nan > 0', false],
    ['metrics.nan = 0', false],
    ['metrics.nan != 0', true],
    ["params.model = 'ResNet_18'", true],
    ["params.model = 'resnet_18'", false],
    ["params.model LIKE 'Res%'", true],
    ["params.model LIKE 'res%'", false],
    ["params.model ILIKE 'res%'", true],
    ["params.model LIKE 'ResNet__8'", true],
    ["params.model LIKE 'ResNet_1'", false],
    ["params.model LIKE '%Net%'", true],
    ["tags.t LIKE 'a_b'", true],
    ["tags.t LIKE 'a.%'", true],
    ["tags.t LIKE 'a(b'", false],
    ["params.model IS NULL", false],
    ["params.other IS NULL", true],
    ["params.model IS NOT NULL", true],
    ["params.other = 'x'", false],
    ["params.other != 'x'", false],
    ["run_id IN ('r0', 'r1')", true],
    ["run_id NOT IN ('r0', 'r1')", false],
    ["run_id NOT IN ('r0')", true],
    ['start_time > 9 and start_time < 11', true],
    ['end_time > 0', false]
  ]
  for (const [filter, expected] of truths) t.equal(sees(filter, run), expected, filter)
})

t.test('ordering: by each key in turn, missing values last and NaN after numbers either way', async (t) => {
  type R = Readonly<Record<string, string | number>> & { readonly id: string }
  const runs: ReadonlyArray<R> = [
    { id: 'a', 'metric:m': 1, 'attribute:start_time': 5, 'attribute:run_id': 'a' },
    { id: 'b', 'metric:m': NaN, 'attribute:start_time': 6, 'attribute:run_id': 'b' },
    { id: 'c', 'attribute:start_time': 7, 'attribute:run_id': 'c' },
    { id: 'd', 'metric:m': 3, 'attribute:start_time': 5, 'attribute:run_id': 'd' },
    { id: 'e', 'metric:m': 3, 'attribute:start_time': 5, 'attribute:run_id': 'e' },
    { id: 'f', 'attribute:start_time': 9, 'attribute:run_id': 'f' }
  ]
  const sorted = (orderBy: ReadonlyArray<string>): string =>
    [...runs]
      .sort(ordering(withRunTieBreak(right(parseRunOrder(orderBy))), (r: R) => lookupOf(r)))
      .map((r) => r.id)
      .join('')
  t.equal(sorted([]), 'fcbade', 'newest start first, then run id')
  t.equal(sorted(['metrics.m DESC']), 'deabfc')
  t.equal(sorted(['metrics.m']), 'adebfc')
  t.equal(sorted(['start_time ASC']), 'adebcf', 'an ordering on start time replaces the natural one')
  t.equal(ordering([], (r: R) => lookupOf(r))(runs[0]!, runs[1]!), 0, 'no ordering, no difference')
  t.strictSame(withRunTieBreak([]), [
    { kind: 'attribute', key: 'start_time', ascending: false },
    { kind: 'attribute', key: 'run_id', ascending: true }
  ])
})

t.test('experiments: newest first then by id by default; numeric ids compare as numbers', async (t) => {
  const defaults: ReadonlyArray<Order> = withExperimentTieBreak([])
  t.strictSame(defaults, [
    { kind: 'attribute', key: 'creation_time', ascending: false },
    { kind: 'attribute', key: 'experiment_id', ascending: true }
  ])
  t.strictSame(withExperimentTieBreak([{ kind: 'attribute', key: 'name', ascending: true }]), [
    { kind: 'attribute', key: 'name', ascending: true },
    { kind: 'attribute', key: 'experiment_id', ascending: false }
  ])
  const byId = (a: string, b: string) =>
    ordering<string>([{ kind: 'attribute', key: 'experiment_id', ascending: true }], (id) => () => id)(a, b)
  t.strictSame(['10', '9', '2'].sort(byId), ['2', '9', '10'])
  t.strictSame(['ab', 'aa', '10'].sort(byId), ['10', 'aa', 'ab'])
})

t.test('pages: MLflow tokens, sizes within bounds', async (t) => {
  const items = [1, 2, 3, 4, 5]
  const first = right(page(items, 2, undefined))
  t.strictSame(first.items, [1, 2])
  t.equal(first.nextPageToken, btoa(JSON.stringify({ offset: 2 })))
  const second = right(page(items, 2, first.nextPageToken))
  t.strictSame(second.items, [3, 4])
  const last = right(page(items, 2, second.nextPageToken))
  t.strictSame(last, { items: [5], nextPageToken: undefined })
  t.strictSame(right(page(items, undefined, '')), { items, nextPageToken: undefined })
  t.match(page(items, 0, undefined), E.left({ _tag: 'InvalidValue', key: 'maxResults', reason: 'a page holds 1 to 50000 results, not 0' }))
  t.match(page(items, 50_001, undefined), E.left({ _tag: 'InvalidValue', key: 'maxResults' }))
  t.match(page(items, 1.5, undefined), E.left({ _tag: 'InvalidValue', key: 'maxResults' }))
  t.match(page(items, 2, 'not base64!'), E.left({ _tag: 'InvalidValue', key: 'pageToken', reason: 'not a token this search gave' }))
  t.match(page(items, 2, btoa('{"offset": -1}')), E.left({ _tag: 'InvalidValue', key: 'pageToken' }))
  t.match(page(items, 2, btoa('{}')), E.left({ _tag: 'InvalidValue', key: 'pageToken' }))
})
