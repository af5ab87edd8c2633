// `show`, `compare` and `gate` in process, over the local store and over fake sources: every
// branch of the commands (spec/integration/daily-cli.ts runs them as programs, on a server too).
import t from 'tap'
import { tlsTarget } from '../../lib/mlflow/Config.js'
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { join } from 'node:path'
import { pipe } from 'fp-ts/lib/function.js'
import * as O from 'fp-ts/lib/Option.js'
import { Errors, Platform, evaluate, fork, Mlflow, nodePlatform, type Query, run, Track, trackParam } from 'charmory-track'
import { openStore } from '../support/local-store.js'
import { serverArtifacts } from '../../lib/cli/artifacts.js'
import { num, sparkline } from '../../lib/cli/chart.js'
import { compareCommand, compareRuns, renderMarkdown, renderText, searchAll, usage as compareUsage } from '../../lib/cli/compare.js'
import { toJson } from '../../lib/cli/source.js'
import { gateCommand, usage as gateUsage } from '../../lib/cli/gate.js'
import { renderDetails, runDetails, showCommand, usage as showUsage } from '../../lib/cli/show.js'
import { cli } from '../../lib/cli/cli.js'
import { fixedSource } from '../support/behaviour.js'
import { testIo, type TestIo } from '../support/local-cli.js'
import { right } from '../support/local-store.js'

const T0 = Date.UTC(2024, 4, 1, 12, 0, 0)

/** Three runs of `nightly` in the store of `io`: resnet18, resnet50, vit (newest). */
const fill = async (io: TestIo) => {
  const sink = openStore(join(io.home, '.armory', 'mlruns'))
  let now = T0
  const clock = { now: () => now }
  const ev = (model: string, lr: number, accuracy: number, losses: ReadonlyArray<number>) =>
    fork(
      pipe(
        trackParam('model', model),
        Track.flatMap(() => trackParam('lr', lr)),
        Track.flatMap(() => trackParam('seed', 42)),
        Track.flatMap(() =>
          evaluate({ experiment: 'nightly', runName: model }, async (r) => {
            for (const [i, l] of losses.entries()) await r.logMetric('loss', l, { step: i })
            await r.logArtifact({ path: 'reports/summary.md', text: `# ${model}\n` })
            now += 3_723_000
            return { accuracy }
          })
        ),
        Track.tap(() => Track.fromPromise(async () => void (now += 1000)))
      )
    )
  const ids: Array<string> = []
  for (const [model, lr, accuracy, losses] of [
    ['resnet18', 0.1, 0.91, [2.3, 1.4, 0.9, 0.5]],
    ['resnet50', 0.01, 0.94, [2.2, 1.1, 0.6, 0.36]],
    ['vit', 0.01, 0.93, [2.5, 1.9, 0.6]]
  ] as const) {
    ids.push(right(await run(ev(model, lr, accuracy, losses), { sink, clock, source: () => fixedSource(O.none) })).runId)
  }
  return ids as [string, string, string]
}

t.test('sparkline and num', async (t) => {
  t.equal(sparkline([1, 2, 3, 4, 5, 6, 7, 8], 8), '▁▂▃▄▅▆▇█')
  t.equal(sparkline([0, 10, 0, 10], 2), '▄▄')
  t.equal(sparkline([NaN, 1, Infinity, 2]), '▁█')
  t.equal(sparkline(Array.from({ length: 100 }, (_, i) => i)).length, 40)
  t.equal(num(1 / 3), '0.333333')
  t.equal(num(NaN), 'NaN')
  t.equal(num(-Infinity), '-Infinity')
})

t.test('show: a local run whole, as text and as JSON', async (t) => {
  const io = testIo(t)
  const [, , vit] = await fill(io)
  t.equal(await showCommand([vit], io), 0, io.err())
  t.equal(
    io.out(),
    `run         ${vit}
name        vit
experiment  nightly (id ${io.out().match(/\(id (\w+)\)/)![1]})
status      FINISHED
start       2024-05-01T14:04:08Z
end         2024-05-01T15:06:11Z (1h 2m 3s)

params:
  charmory-track.version  0.1.0
  lr                      0.01
  model                   vit
  seed                    42

metrics:
            LAST  MIN   MAX   POINTS  HISTORY
  accuracy  0.93  0.93  0.93  1
  loss      0.6   0.6   2.5   3       █▆▁

tags:
  mlflow.runName      vit
  mlflow.source.name  /home/ada/eval/run.ts
  mlflow.source.type  LOCAL
  mlflow.user         ada

artifacts:
  reports/summary.md  6 B
  results.json        22 B
`
  )
  const json = testIo(t, { ARMORY_HOME: join(io.home, '.armory') })
  t.equal(await showCommand(['--json', vit], json), 0)
  t.match(JSON.parse(json.out()), {
    run: { runId: vit, runName: 'vit', params: { lr: '0.01' } },
    experimentName: 'nightly',
    metrics: { loss: { last: 0.6, min: 0.6, max: 2.5, points: 3 } },
    artifacts: [{ path: 'reports/summary.md', size: 6 }]
  })
})

t.test('show: usage, help, a missing run', async (t) => {
  const help = testIo(t)
  t.equal(await showCommand(['--help'], help), 0)
  t.equal(help.out(), showUsage)
  const none = testIo(t)
  t.equal(await showCommand([], none), 2)
  t.equal(none.err(), `charmory-track show: a run id is needed\n\n${showUsage}`)
  const two = testIo(t)
  t.equal(await showCommand(['a', 'b'], two), 2)
  t.match(two.err(), /^charmory-track show: one run id at a time, not 2\n/)
  const bad = testIo(t)
  t.equal(await showCommand(['--wide'], bad), 2)
  t.match(bad.err(), /Unknown option '--wide'/)
  const missing = testIo(t)
  t.equal(await showCommand(['0123456789abcdef0123456789abcdef'], missing), 1)
  t.equal(missing.err(), 'charmory-track show: run "0123456789abcdef0123456789abcdef" not found\n')
  const unusable = testIo(t)
  t.equal(await showCommand(['r1', '--from', 'ftp://nowhere'], unusable), 1)
  t.match(unusable.err(), /^charmory-track show: /)
})

const foundRun = (over: Partial<Query.FoundRun> = {}): Query.FoundRun => ({
  runId: 'r1',
  experimentId: '7',
  runName: 'one',
  status: 'RUNNING',
  startTime: 0,
  endTime: undefined,
  userId: '',
  params: {},
  metrics: {},
  tags: {},
  ...over
})

/** A query over one run whose metric `nan` is all NaN and whose `long` history comes in pages. */
const fakeQuery = (failing: Partial<Record<keyof Query.RunQuery, true>> = {}): Query.RunQuery => {
  const down = TE.left(Errors.networkError('connection refused', 'test'))
  return {
    searchRuns: () => down,
    getRun: () => (failing.getRun ? down : TE.right(foundRun({ metrics: { nan: NaN, long: 3 } }))),
    searchExperiments: () => (failing.searchExperiments ? down : TE.right({ experiments: [], nextPageToken: undefined })),
    getMetricHistory: (_, key, page = {}) => {
      if (failing.getMetricHistory) return down
      if (key === 'nan') return TE.right({ metrics: [{ key, value: NaN, step: 0, timestamp: 0 }], nextPageToken: undefined })
      const start = Number(page.pageToken ?? 0)
      return TE.right({ metrics: [{ key, value: start + 1, step: start, timestamp: 0 }], nextPageToken: start < 2 ? String(start + 1) : undefined })
    }
  }
}

t.test('show: histories in pages, all-NaN metrics, sizes, unknown experiments, failures', async (t) => {
  const artifacts = () => TE.right([{ path: 'a', size: undefined }, { path: 'b', size: 2048 }, { path: 'c', size: 5 * 1024 * 1024 }])
  const d = right(await runDetails({ where: 'x', query: fakeQuery(), artifacts }, 'r1'))
  t.match(d.metrics, { long: { last: 3, min: 1, max: 3, points: 3, sparkline: '▁▅█' }, nan: { points: 1 } })
  t.ok(Number.isNaN(d.metrics['nan']!.min))
  const text = renderDetails(d)
  t.match(text, /^experiment {2}7$/m)
  t.match(text, /^end {9}-$/m)
  t.match(text, /^params: none$/m)
  t.match(text, /^ {2}a$/m)
  t.match(text, /^ {2}b {2}2 KiB$/m)
  t.match(text, /^ {2}c {2}5 MiB$/m)
  t.match(renderDetails({ ...d, run: foundRun({ startTime: 0, endTime: 61_000 }) }), /\(1m 1s\)/)
  for (const op of ['getRun', 'searchExperiments', 'getMetricHistory'] as const) {
    t.match(await runDetails({ where: 'x', query: fakeQuery({ [op]: true }), artifacts }, 'r1'), E.left({ _tag: 'NetworkError' }), op)
  }
  t.match(await runDetails({ where: 'x', query: fakeQuery(), artifacts: () => TE.left(Errors.networkError('gone', 'list')) }, 'r1'), E.left({ _tag: 'NetworkError' }))
})

t.test('show --from lists the server\'s artifacts folder by folder and page by page', async (t) => {
  const answers: Record<string, unknown> = {
    'mlflow/runs/get': { run: { info: { run_id: 'r1', experiment_id: '1', run_name: 'one', status: 'FINISHED', start_time: 0, end_time: 1000 }, data: {} } },
    'mlflow/experiments/search': { experiments: [{ experiment_id: '1', name: 'remote' }] },
    'mlflow/artifacts/list?run_id=r1': { files: [{ path: 'plots', is_dir: true }, { path: 'model.pt', is_dir: false, file_size: '12' }] },
    'mlflow/artifacts/list?run_id=r1&path=plots': { files: [{ path: 'plots/a.png', file_size: 3 }], next_page_token: 't2' },
    'mlflow/artifacts/list?run_id=r1&path=plots&page_token=t2': { files: [{ path: 'plots/b.png' }, { path: 'plots/empty', is_dir: true }] },
    'mlflow/artifacts/list?run_id=r1&path=plots/empty': {}
  }
  const fetch: Platform.Fetch = async (url) => {
    const u = new URL(url)
    const key = `${u.pathname.replace('/api/2.0/', '')}${u.search === '' ? '' : `?${[...u.searchParams].map(([k, v]) => `${k}=${v}`).join('&')}`}`
    const answer = answers[key] ?? answers[u.pathname.replace('/api/2.0/', '')]
    const text = JSON.stringify(answer ?? {})
    return { status: answer === undefined ? 404 : 200, headers: { get: () => null }, text: async () => text, arrayBuffer: async () => new TextEncoder().encode(text).buffer as ArrayBuffer }
  }
  const io = { ...testIo(t), fetch }
  t.equal(await showCommand(['r1', '--from', 'http://mlflow.test'], io), 0, io.err())
  t.match(io.out(), /^artifacts:\n {2}model\.pt {5}12 B\n {2}plots\/a\.png {2}3 B\n {2}plots\/b\.png\n$/m)
  t.match(io.out(), /^experiment {2}remote \(id 1\)$/m)
  answers['mlflow/artifacts/list?run_id=r1&path=plots/empty'] = undefined
  const broken = { ...testIo(t), fetch }
  t.equal(await showCommand(['r1', '--from', 'http://mlflow.test'], broken), 1)
  t.match(broken.err(), /^charmory-track show: .*404/)
  const failing: Platform.Fetch = async () => ({ status: 200, headers: { get: () => null }, text: async () => '{"files": 3}', arrayBuffer: async () => new TextEncoder().encode('{"files": 3}').buffer as ArrayBuffer })
  const config = right(Mlflow.configFor('http://127.0.0.1:1'))
  t.match(await serverArtifacts(config, failing, nodePlatform, 'r1')(), E.left({ _tag: 'DecodeError' }))
  // a busy server is asked again
  let calls = 0
  const busy: Platform.Fetch = async () => {
    const text = calls++ === 0 ? '{"error_code": "TEMPORARILY_UNAVAILABLE", "message": "busy"}' : '{"files": [{"path": "x.txt", "file_size": 1}]}'
    return { status: calls === 1 ? 503 : 200, headers: { get: () => null }, text: async () => text, arrayBuffer: async () => new TextEncoder().encode(text).buffer as ArrayBuffer }
  }
  const quick = { ...config, retry: { ...config.retry, backoffFactorMs: 0, backoffJitterMs: 0 } }
  t.strictSame(await serverArtifacts(quick, busy, nodePlatform, 'r1')(), E.right([{ path: 'x.txt', size: 1 }]))
  // Node's transport: a port nobody listens on
  const transport = await nodePlatform.transport(tlsTarget(config))()
  if (E.isLeft(transport)) return t.fail(Errors.describeError(transport.left))
  t.match(await serverArtifacts({ ...config, retry: { ...config.retry, maxRetries: 0, refusedRetries: 0 } }, transport.right.fetch, nodePlatform, 'r1')(), E.left({ _tag: 'NetworkError' }))
  transport.right.close()
})

t.test('compare: runs by id, the params that differ, the best metric marked; Markdown; JSON', async (t) => {
  const io = testIo(t)
  const [r18, r50, vit] = await fill(io)
  t.equal(await compareCommand([r18, r50, vit], io), 0, io.err())
  t.equal(
    io.out(),
    [
      `              resnet18                          resnet50                          vit`,
      `              ${r18}  ${r50}  ${vit}`,
      'PARAMS',
      '  lr          0.1                               0.01                              0.01',
      '  model       resnet18                          resnet50                          vit',
      'METRICS',
      '  accuracy ↑  0.91                              0.94 *                            0.93',
      '  loss ↓      0.5                               0.36 *                            0.6',
      '2 other params the same in every run; * the best value (↑ higher is better, ↓ lower)',
      ''
    ].join('\n')
  )
  const home = { ARMORY_HOME: join(io.home, '.armory') }
  const md = testIo(t, home)
  t.equal(await compareCommand(['--experiment', 'nightly', '--markdown', '--lower-is-better', 'accuracy', '--max', '2'], md), 0)
  t.equal(
    md.out(),
    `|  | vit<br>\`${vit.slice(0, 8)}\` | resnet50<br>\`${r50.slice(0, 8)}\` |
| --- | --- | --- |
| **params** |  |  |
| model | vit | resnet50 |
| **metrics** |  |  |
| accuracy ↓ | **0.93** | 0.94 |
| loss ↓ | 0.6 | **0.36** |

3 other params the same in every run; bold: the best value (↑ higher is better, ↓ lower)
`
  )
  const json = testIo(t, home)
  t.equal(await compareCommand(['--filter', "params.model = 'vit'", '--higher-is-better', 'loss', '--json'], json), 0)
  t.strictSame(JSON.parse(json.out()), {
    runs: [{ runId: vit, runName: 'vit', status: 'FINISHED' }],
    params: [],
    sameParams: 4,
    metrics: [
      { key: 'accuracy', direction: 'higher', values: [0.93], best: [] },
      { key: 'loss', direction: 'higher', values: [0.6], best: [] }
    ]
  })
  const none = testIo(t, home)
  t.equal(await compareCommand(['--experiment', 'nope', '--order-by', 'attributes.start_time ASC'], none), 0)
  t.equal(none.out(), `no runs to compare in ${join(io.home, '.armory', 'mlruns')}\n`)
  const noneJson = testIo(t, home)
  t.equal(await compareCommand(['--experiment', 'nope', '--json'], noneJson), 0)
  t.strictSame(JSON.parse(noneJson.out()), { runs: [], params: [], sameParams: 0, metrics: [] })
})

t.test('compare: missing values, NaN, ties, pipes in Markdown, pages of a search', async (t) => {
  const runs = [
    foundRun({ runId: 'a', runName: 'a|b', params: { p: 'x|y', same: '1' }, metrics: { acc: NaN, err: 1, tie: 2, nan: NaN } }),
    foundRun({ runId: 'b', runName: 'b', params: { same: '1' }, metrics: { acc: 0.5, err: 1, tie: 2 } }),
    foundRun({ runId: 'c', runName: 'c', params: { p: 'z', same: '1' }, metrics: { err: 0.5, tie: 3 } })
  ]
  const c = compareRuns(runs, (m) => (m === 'err' ? 'lower' : 'higher'))
  t.strictSame(c.params, [{ key: 'p', values: ['x|y', undefined, 'z'] }])
  t.strictSame(c.metrics, [
    { key: 'acc', direction: 'higher', values: [NaN, 0.5, undefined], best: [] },
    { key: 'err', direction: 'lower', values: [1, 1, 0.5], best: [2] },
    { key: 'nan', direction: 'higher', values: [NaN, undefined, undefined], best: [] },
    { key: 'tie', direction: 'higher', values: [2, 2, 3], best: [2] }
  ])
  t.equal(c.sameParams, 1)
  const text = renderText(c)
  t.match(text, /^ {2}p +x\|y +- +z$/m)
  t.match(text, /^ {2}acc ↑ +NaN +0\.5 +-$/m)
  t.match(text, /^1 other param the same in every run;/m)
  t.equal(toJson({ a: NaN, b: -Infinity, c: 1 }), '{\n  "a": "NaN",\n  "b": "-Infinity",\n  "c": 1\n}\n')
  const md = renderMarkdown(c)
  t.match(md, /^\| {2}\| a\\\|b<br>`a` \|/)
  t.match(md, /^\| p \| x\\\|y \| - \| z \|$/m)
  t.match(md, /^\| acc ↑ \| NaN \| 0\.5 \| - \|$/m)
  t.match(renderMarkdown(compareRuns([runs[1]!], () => 'higher')), /^\| --- \| --- \|\n\| \*\*metrics\*\*/m)
  // a search read page by page, to --max runs
  const io = testIo(t)
  const sink = openStore(join(io.home, '.armory', 'mlruns'))
  for (let i = 0; i < 3; i++) {
    right(await run(evaluate({ experiment: 'many', runName: `r${i}` }, async () => ({ acc: i })), { sink, clock: { now: () => T0 + i }, source: () => fixedSource(O.none) }))
  }
  t.equal(await compareCommand(['--experiment', 'many', '--max', '2', '--json'], io), 0)
  t.strictSame(JSON.parse(io.out()).runs.map((r: { runName: string }) => r.runName), ['r2', 'r1'])
  const paged = right(await searchAll(sink.query, { experiments: ['many'] }, 10, 1))
  t.strictSame(paged.map((r) => r.runName), ['r2', 'r1', 'r0'])
})

t.test('compare: usage errors, help, a failing search or run', async (t) => {
  const help = testIo(t)
  t.equal(await compareCommand(['-h'], help), 0)
  t.equal(help.out(), compareUsage)
  const cases: ReadonlyArray<readonly [ReadonlyArray<string>, string]> = [
    [[], 'name runs by id, or search them with --experiment or --filter'],
    [['r1', '--experiment', 'x'], 'run ids and a search (--experiment, --filter, --order-by) exclude each other'],
    [['r1', '--max', '0'], '--max takes a positive whole number, not "0"'],
    [['r1', '--markdown', '--json'], '--markdown and --json exclude each other'],
    [['r1', '--lower-is-better', 'acc', '--higher-is-better', 'acc'], '"acc" cannot be both higher- and lower-is-better']
  ]
  for (const [argv, message] of cases) {
    const io = testIo(t)
    t.equal(await compareCommand(argv, io), 2, message)
    t.equal(io.err(), `charmory-track compare: ${message}\n\n${compareUsage}`)
  }
  const bad = testIo(t)
  t.equal(await compareCommand(['--wide'], bad), 2)
  const missing = testIo(t)
  t.equal(await compareCommand(['0123456789abcdef0123456789abcdef'], missing), 1)
  t.equal(missing.err(), 'charmory-track compare: run "0123456789abcdef0123456789abcdef" not found\n')
  const filter = testIo(t)
  t.equal(await compareCommand(['--filter', 'metrics.acc > high'], filter), 1)
  t.match(filter.err(), /^charmory-track compare: invalid query/)
})

t.test('gate: ok, a regression, JSON, the direction flags, and what it cannot judge', async (t) => {
  const io = testIo(t)
  const [r18, r50, vit] = await fill(io)
  t.equal(await gateCommand(['--experiment', 'nightly', '--metric', 'accuracy', '--tolerance', '0.02'], io), 0)
  t.equal(io.out(), `ok: accuracy 0.93 (run ${vit}) against the baseline 0.94 (run ${r50}), tolerance 0.02 (higher is better)\n`)
  const home = { ARMORY_HOME: join(io.home, '.armory') }
  const worse = testIo(t, home)
  t.equal(await gateCommand(['--experiment', 'nightly', '--metric', 'accuracy'], worse), 1)
  t.equal(worse.out(), `regression: accuracy 0.93 (run ${vit}) is worse than the baseline 0.94 (run ${r50}) by 0.01, beyond the tolerance 0 (higher is better)\n`)
  t.equal(worse.err(), '')
  const json = testIo(t, home)
  t.equal(await gateCommand(['--metric', 'loss', '--baseline', r18, '--json'], json), 1)
  t.match(JSON.parse(json.out()), { ok: false, metric: 'loss', runId: vit, value: 0.6, baselineRunId: r18, baselineValue: 0.5 })
  const okJson = testIo(t, home)
  t.equal(await gateCommand(['--metric', 'loss', '--baseline', r18, '--higher-is-better', '--json'], okJson), 0)
  t.match(JSON.parse(okJson.out()), { ok: true, direction: 'higher', candidate: { runId: vit }, baseline: { runId: r18 } })
  const lower = testIo(t, home)
  t.equal(await gateCommand(['--metric', 'accuracy', '--run', r18, '--baseline', r50, '--lower-is-better'], lower), 0)
  t.match(lower.out(), /^ok: accuracy 0\.91 .* \(lower is better\)\n$/)
  const missing = testIo(t, home)
  t.equal(await gateCommand(['--experiment', 'nightly', '--metric', 'f1'], missing), 1)
  t.equal(missing.err(), `charmory-track gate: metric "${vit}/f1" not found\n`)
})

t.test('gate: usage errors and help', async (t) => {
  const help = testIo(t)
  t.equal(await gateCommand(['--help'], help), 0)
  t.equal(help.out(), gateUsage)
  const cases: ReadonlyArray<readonly [ReadonlyArray<string>, string]> = [
    [[], '--metric is needed'],
    [['--metric', ''], '--metric is needed'],
    [['--metric', 'a', '--tolerance=-1'], '--tolerance takes a number of 0 or more, not "-1"'],
    [['--metric', 'a', '--tolerance', ' '], '--tolerance takes a number of 0 or more, not " "'],
    [['--metric', 'a', '--tolerance', 'x'], '--tolerance takes a number of 0 or more, not "x"'],
    [['--metric', 'a', '--lower-is-better', '--higher-is-better'], '--lower-is-better and --higher-is-better exclude each other'],
    [['--metric', 'a'], '--experiment is needed with --baseline best (or name a baseline or --run by id)']
  ]
  for (const [argv, message] of cases) {
    const io = testIo(t)
    t.equal(await gateCommand(argv, io), 2, message)
    t.equal(io.err(), `charmory-track gate: ${message}\n\n${gateUsage}`)
  }
  const bad = testIo(t)
  t.equal(await gateCommand(['--metric'], bad), 2)
})

t.test('the commands are reachable from the command line', async (t) => {
  for (const command of ['show', 'compare', 'gate']) {
    const io = testIo(t)
    t.equal(await cli([command, '--help'], io), 0)
    t.match(io.out(), new RegExp(`^Usage: charmory-track ${command}`))
  }
})
