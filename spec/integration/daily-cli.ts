// `charmory-track show`, `compare` and `gate` as programs (child processes), against a real
// MLflow server (`--from`) and against a local store, on the same runs.
import t, { type Test } from 'tap'
import { randomUUID } from 'node:crypto'
import { join } from 'node:path'
import { Sink, mlflowSink } from 'charmory-track'
import { openStore } from '../support/local-store.js'
import { childEnv, right, root, runTs, tempDir } from '../support/local-store.js'
import { serverFor } from '../support/mlflow-server.js'
import { built } from '../support/sinks.js'

const main = join(root, 'lib/cli/main.ts')

// the server may be shared with other spec files: this file's experiment has a name of its own
const uniq = randomUUID().slice(0, 8)
const experiment = `daily ${uniq}`
const T0 = Date.UTC(2024, 4, 1, 12, 0, 0)

/** Three finished runs of the experiment: resnet18 (0.91), resnet50 (0.94), vit (0.93, newest). */
const fill = async (sink: Sink.Sink): Promise<readonly [string, string, string]> => {
  const experimentId = right(await sink.experiment(experiment)())
  const ids: Array<string> = []
  for (const [i, [model, lr, accuracy, losses]] of ([
    ['resnet18', '0.1', 0.91, [2.3, 1.4, 0.9, 0.5]],
    ['resnet50', '0.01', 0.94, [2.2, 1.1, 0.6, 0.36]],
    ['vit', '0.01', 0.93, [2.5, 1.9, 0.6]]
  ] as const).entries()) {
    const start = T0 + i * 3_600_000
    const r = right(await sink.openRun({ experimentId, runName: model, startTime: start, tags: [['mlflow.runName', model]] })())
    right(await r.logParams([['model', model], ['lr', lr], ['seed', '42']])())
    right(await r.logMetrics(losses.map((value, step) => ({ key: 'loss', value, step, timestamp: start + step })))())
    right(await r.logMetrics([{ key: 'accuracy', value: accuracy, step: 0, timestamp: start + 10 }])())
    right(await r.logArtifact('reports/summary.md', new TextEncoder().encode(`# ${model}\n`))())
    right(await r.end('FINISHED', start + 62_000)())
    ids.push(r.runId)
  }
  return ids as unknown as readonly [string, string, string]
}

const sources = async (t: Test) => {
  const home = tempDir(t)
  const local = await fill(openStore(join(home, 'mlruns')))
  const env = childEnv({ ARMORY_HOME: home, MLFLOW_TRACKING_URI: undefined })
  const out: Array<{ readonly name: string; readonly ids: readonly [string, string, string]; readonly from: ReadonlyArray<string> }> = [
    { name: 'local store', ids: local, from: [] }
  ]
  const server = await serverFor(t)
  if (server !== undefined) {
    const sink = await built(mlflowSink(server.url), { logger: { warn: () => undefined, info: () => undefined } })
    t.teardown(() => sink.close())
    out.push({ name: 'MLflow server', ids: await fill(sink), from: ['--from', server.url] })
  }
  return { env, sources: out }
}

t.test('show, compare and gate as programs, on a local store and on a server', async (t) => {
  const { env, sources: all } = await sources(t)
  for (const { name, ids, from } of all) {
    const [r18, r50, vit] = ids
    t.test(name, async (t) => {
      const show = await runTs(main, ['show', vit, ...from], env)
      t.equal(show.code, 0, show.stderr)
      t.match(show.stdout, new RegExp(`^run +${vit}\\nname +vit\\nexperiment +${experiment} \\(id \\w+\\)\\nstatus +FINISHED\\n`))
      t.match(show.stdout, /^start {7}2024-05-01T14:00:00Z\nend {9}2024-05-01T14:01:02Z \(1m 2s\)$/m)
      t.match(show.stdout, /^ {2}lr {5}0\.01\n {2}model {2}vit\n {2}seed {3}42\n$/m)
      t.match(show.stdout, /^ {2}loss {6}0\.6 {3}0\.6 {3}2\.5 {3}3 {7}█▆▁$/m)
      t.match(show.stdout, /^artifacts:\n {2}reports\/summary\.md {2}6 B\n$/m)
      const json = await runTs(main, ['show', vit, '--json', ...from], env)
      t.match(JSON.parse(json.stdout), { run: { runId: vit }, experimentName: experiment, metrics: { accuracy: { last: 0.93, points: 1 } } })

      const compare = await runTs(main, ['compare', r18, r50, vit, ...from], env)
      t.equal(compare.code, 0, compare.stderr)
      t.match(compare.stdout, /^ {2}accuracy ↑ +0\.91 +0\.94 \* +0\.93$/m)
      t.match(compare.stdout, /^ {2}loss ↓ +0\.5 +0\.36 \* +0\.6$/m)
      t.match(compare.stdout, /^ {2}lr +0\.1 +0\.01 +0\.01$/m)
      t.notMatch(compare.stdout, /seed/)
      const md = await runTs(main, ['compare', '--experiment', experiment, '--markdown', ...from], env)
      t.equal(md.code, 0, md.stderr)
      t.match(md.stdout, new RegExp(`^\\|  \\| vit<br>\`${vit.slice(0, 8)}\` \\| resnet50<br>\`${r50.slice(0, 8)}\` \\| resnet18<br>\`${r18.slice(0, 8)}\` \\|$`, 'm'))
      t.match(md.stdout, /^\| accuracy ↑ \| 0\.93 \| \*\*0\.94\*\* \| 0\.91 \|$/m)

      const ok = await runTs(main, ['gate', '--experiment', experiment, '--metric', 'accuracy', '--tolerance', '0.02', ...from], env)
      t.equal(ok.code, 0, ok.stderr)
      t.equal(ok.stdout, `ok: accuracy 0.93 (run ${vit}) against the baseline 0.94 (run ${r50}), tolerance 0.02 (higher is better)\n`)
      const worse = await runTs(main, ['gate', '--experiment', experiment, '--metric', 'accuracy', '--tolerance', '0.005', ...from], env)
      t.equal(worse.code, 1)
      t.equal(worse.stdout, `regression: accuracy 0.93 (run ${vit}) is worse than the baseline 0.94 (run ${r50}) by 0.01, beyond the tolerance 0.005 (higher is better)\n`)
      const loss = await runTs(main, ['gate', '--metric', 'loss', '--baseline', r18, ...from], env)
      t.equal(loss.code, 1)
      t.match(loss.stdout, /^regression: loss 0\.6 .* by 0\.1, beyond the tolerance 0 \(lower is better\)\n$/)
      const missing = await runTs(main, ['show', '0123456789abcdef0123456789abcdef', ...from], env)
      t.equal(missing.code, 1)
      t.match(missing.stderr, /^charmory-track show: /)
      const usage = await runTs(main, ['gate', '--experiment', experiment, ...from], env)
      t.equal(usage.code, 2)
      t.match(usage.stderr, /^charmory-track gate: --metric is needed\n\nUsage: charmory-track gate/)
    })
  }
})
