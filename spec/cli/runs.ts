import t from 'tap'
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Platform, Sink, localSink } from 'charmory-track'
import * as Layout from '../../lib/local/Layout.js'
import * as Registry from '../../lib/local/Registry.js'
import { openStore } from '../support/local-store.js'
import { runsCommand, table, usage } from '../../lib/cli/runs.js'
import { testIo } from '../support/local-cli.js'
import { right } from '../support/local-store.js'

const fill = async (dir: string) => {
  const sink = openStore(dir)
  const open = async (experiment: string, runName: string, startTime: number): Promise<Sink.RunSink> =>
    right(await sink.openRun({ experimentId: right(await sink.experiment(experiment)()), runName, startTime, tags: [] })())
  const a = await open('mnist', 'first', Date.UTC(2024, 4, 1, 12, 0, 0))
  right(await a.logParams([['lr', '0.1'], ['bs', '16']])())
  right(await a.logMetrics([{ key: 'loss', value: 1, step: 0, timestamp: 1 }, { key: 'acc', value: 1, step: 0, timestamp: 1 }])())
  right(await a.end('FINISHED', Date.UTC(2024, 4, 1, 12, 1, 0))())
  const b = await open('cifar', 'second', Date.UTC(2024, 4, 2, 8, 30, 5))
  right(await b.flush()())
  const c = await open('mnist', 'third', Date.UTC(2024, 4, 3, 0, 0, 0))
  right(await c.end('FAILED', Date.UTC(2024, 4, 3, 0, 0, 1))())
  right(await Registry.recordSyncState(dir, a.runId, { target: 'memory', remoteRunId: 'x', offset: 1_000_000 })())
  right(await Registry.recordSyncState(dir, c.runId, { target: 'memory', remoteRunId: 'y', offset: 1 })())
  return { a: a.runId, b: b.runId, c: c.runId }
}

t.test('runs prints the local runs as a table, newest first', async (t) => {
  const io = testIo(t)
  const dir = join(io.home, '.armory', 'mlruns')
  const { a, b, c } = await fill(dir)
  t.equal(await runsCommand([], io), 0)
  t.equal(
    io.out(),
    table([
      ['EXPERIMENT', 'RUN ID', 'NAME', 'STATUS', 'START', 'PARAMS', 'METRICS', 'SYNCED'],
      ['mnist', c, 'third', 'FAILED', '2024-05-03T00:00:00Z', '0', '0', 'partly'],
      ['cifar', b, 'second', 'RUNNING', '2024-05-02T08:30:05Z', '0', '0', 'no'],
      ['mnist', a, 'first', 'FINISHED', '2024-05-01T12:00:00Z', '2', '2', 'yes']
    ])
  )
  t.match(io.out(), /^EXPERIMENT {2}RUN ID {28}NAME {4}STATUS {4}START {17}PARAMS {2}METRICS {2}SYNCED\n/)

  const only = testIo(t, { ARMORY_HOME: join(io.home, '.armory') })
  t.equal(await runsCommand(['--experiment', 'cifar'], only), 0)
  t.equal(only.out().trim().split('\n').length, 2)
  t.match(only.out(), new RegExp(`cifar +${b}`))
})

t.test('an empty store, or an experiment without runs, says so', async (t) => {
  const io = testIo(t)
  t.equal(await runsCommand([], io), 0)
  t.equal(io.out(), `no runs in ${join(io.home, '.armory', 'mlruns')}\n`)
  const other = testIo(t)
  t.equal(await runsCommand(['--experiment=nope'], other), 0)
  t.equal(other.out(), `no runs of experiment "nope" in ${join(other.home, '.armory', 'mlruns')}\n`)
})

t.test('--help prints the usage; a bad flag is a usage error; a store that cannot be read an error, a bad line a warning', async (t) => {
  const help = testIo(t)
  t.equal(await runsCommand(['-h'], help), 0)
  t.equal(help.out(), usage)
  const bad = testIo(t)
  t.equal(await runsCommand(['--verbose'], bad), 2)
  t.match(bad.err(), /Unknown option '--verbose'/)
  const damaged = testIo(t)
  const dir = join(damaged.home, '.armory', 'mlruns')
  const { a } = await fill(dir)
  appendFileSync(Layout.journalPath(dir, a), 'garbage\n')
  t.equal(await runsCommand([], damaged), 0, 'one bad line hides nothing')
  t.match(damaged.err(), new RegExp(`^charmory-track runs: unexpected data from ${Layout.journalPath(dir, a)}:\\d+ at \\(line\\): not JSON.*; the line is skipped\n$`))
  t.match(damaged.out(), a)
  const unreadable = testIo(t)
  const store = join(unreadable.home, '.armory', 'mlruns')
  mkdirSync(store, { recursive: true })
  writeFileSync(join(store, 'runs'), 'not a folder')
  t.equal(await runsCommand([], unreadable), 1)
  t.match(unreadable.err(), /^charmory-track runs: .*runs: /)
})

t.test('--filter, --order-by and --max search the local store with MLflow syntax, in the same table', async (t) => {
  const io = testIo(t)
  const dir = join(io.home, '.armory', 'mlruns')
  const { a, b, c } = await fill(dir)
  t.equal(await runsCommand(['--filter', "params.lr = '0.1' and metrics.acc >= 1"], io), 0)
  t.equal(
    io.out(),
    table([
      ['EXPERIMENT', 'RUN ID', 'NAME', 'STATUS', 'START', 'PARAMS', 'METRICS', 'SYNCED'],
      ['mnist', a, 'first', 'FINISHED', '2024-05-01T12:00:00Z', '2', '2', 'yes']
    ])
  )
  t.equal(io.err(), '')

  const ordered = testIo(t, { ARMORY_HOME: join(io.home, '.armory') })
  t.equal(await runsCommand(['--order-by', 'attributes.start_time ASC', '--max', '2'], ordered), 0)
  t.strictSame(ordered.out().trim().split('\n').slice(1).map((l) => l.split(/ +/)[1]), [a, b], 'oldest first, two of three')
  t.equal(ordered.err(), 'charmory-track runs: more runs match than the 2 shown (see --max, --filter)\n')

  const two = testIo(t, { ARMORY_HOME: join(io.home, '.armory') })
  t.equal(await runsCommand(['--experiment', 'mnist', '--experiment', 'cifar', '--order-by', 'attributes.run_name DESC'], two), 0)
  t.strictSame(two.out().trim().split('\n').slice(1).map((l) => l.split(/ +/)[1]), [c, b, a], 'third, second, first')

  const none = testIo(t, { ARMORY_HOME: join(io.home, '.armory') })
  t.equal(await runsCommand(['--experiment', 'mnist', '--filter', "attributes.status = 'KILLED'"], none), 0)
  t.equal(none.out(), `no runs of experiment "mnist" matching the filter in ${dir}\n`)
})

t.test('--json prints the runs found, with params, latest metrics and tags', async (t) => {
  const io = testIo(t)
  const dir = join(io.home, '.armory', 'mlruns')
  const sink = openStore(dir)
  const r = right(await sink.openRun({ experimentId: right(await sink.experiment('mnist')()), runName: 'nan', startTime: 5, tags: [['team', 'vision']] })())
  right(await r.logParams([['lr', '0.1']])())
  right(await r.logMetrics([{ key: 'loss', value: NaN, step: 0, timestamp: 6 }, { key: 'acc', value: 0.5, step: 0, timestamp: 6 }, { key: 'acc', value: 0.75, step: 1, timestamp: 7 }])())
  right(await r.end('FINISHED', 8)())
  t.equal(await runsCommand(['--json', '--filter', 'metrics.acc > 0.6'], io), 0)
  t.strictSame(JSON.parse(io.out()), [
    {
      runId: r.runId,
      experimentId: r.experimentId,
      runName: 'nan',
      status: 'FINISHED',
      startTime: 5,
      endTime: 8,
      userId: '',
      params: { lr: '0.1' },
      metrics: { loss: 'NaN', acc: 0.75 },
      tags: { team: 'vision' }
    }
  ])
  const empty = testIo(t, { ARMORY_HOME: join(io.home, '.armory') })
  t.equal(await runsCommand(['--json', '--filter', 'metrics.acc > 0.8'], empty), 0)
  t.equal(empty.out(), '[]\n')
})

t.test('a filter that cannot be read names the column; a bad --max is a usage error', async (t) => {
  const io = testIo(t)
  t.equal(await runsCommand(['--filter', 'metrics.acc > high'], io), 1)
  t.equal(io.err(), 'charmory-track runs: invalid query "metrics.acc > high" at column 15: expected a number, found "high"\n')
  const order = testIo(t)
  t.equal(await runsCommand(['--order-by', 'metrics.acc sideways'], order), 1)
  t.match(order.err(), /at column 13: expected ASC, DESC or the end/)
  for (const bad of ['0', '-1', 'ten', '1.5']) {
    const max = testIo(t)
    t.equal(await runsCommand([`--max=${bad}`], max), 2, bad)
    t.equal(max.err(), `charmory-track runs: --max takes a positive whole number, not ${JSON.stringify(bad)}\n\n${usage}`)
  }
  const huge = testIo(t)
  t.equal(await runsCommand(['--max', '50001'], huge), 1)
  t.match(huge.err(), /invalid value for "maxResults": a page holds 1 to 50000 results/)
})

t.test('--from: a run of an experiment missing from the names shows the experiment id', async (t) => {
  // the names are read first, before the experiment appears; the search then finds it
  let searches = 0
  const answers: Record<string, () => unknown> = {
    'mlflow/experiments/search': () => (searches++ === 0 ? {} : { experiments: [{ experiment_id: '42', name: 'late' }] }),
    'mlflow/runs/search': () => ({
      runs: [{ info: { run_id: 'r1', experiment_id: '42', run_name: 'lone', status: 'FINISHED', start_time: 0 }, data: {} }]
    })
  }
  const fetch: Platform.Fetch = async (url) => {
    const text = JSON.stringify(answers[new URL(url).pathname.replace('/api/2.0/', '')]!())
    return { status: 200, headers: { get: () => null }, text: async () => text, arrayBuffer: async () => new TextEncoder().encode(text).buffer as ArrayBuffer }
  }
  const io = { ...testIo(t), fetch }
  t.equal(await runsCommand(['--from', 'http://mlflow.test'], io), 0)
  t.equal(io.out(), table([['EXPERIMENT', 'RUN ID', 'NAME', 'STATUS', 'START', 'PARAMS', 'METRICS'], ['42', 'r1', 'lone', 'FINISHED', '1970-01-01T00:00:00Z', '0', '0']]))
})
