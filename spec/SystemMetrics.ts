// System metrics on the memory sink, driven by a fake sampler and a fake timer: no waiting,
// every tick fired by hand.
import t from 'tap'
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { Errors, Platform, Sink, evaluate, memorySink, run, type SystemMetrics } from 'charmory-track'
import {
  DEFAULT_INTERVAL_MS,
  GPU_METRIC_NAMES,
  planSystemMetrics,
  startMonitor,
  SYSTEM_METRIC_NAMES,
  systemMetricsSettings
} from '../lib/SystemMetrics.js'
import { captureLogger, fixedSource } from './support/behaviour.js'

const T0 = 1_700_000_000_000

interface FakeTimer {
  /** What the platform gives system metrics: the variables, the sampler and the timer. */
  readonly support: Pick<Platform.Platform, 'vars' | 'systemSampler' | 'timers'>
  /** The sampler a monitor is started with. */
  readonly sampler: SystemMetrics.SystemSampler
  /** Fires the timer once and waits for the sample it started to be logged. */
  readonly tick: () => Promise<void>
  readonly intervals: Array<number>
  readonly active: () => boolean
  readonly samplers: () => number
}

const fake = (vars: Record<string, string> = {}, sample: (n: number) => Promise<SystemMetrics.SystemSample> = async (n) => ({ cpu_utilization_percentage: n, network_receive_megabytes: 0.5 })): FakeTimer => {
  let callback: (() => void) | undefined
  let made = 0
  let taken = 0
  let pending: Promise<unknown> = Promise.resolve()
  const intervals: Array<number> = []
  const sampler = (): SystemMetrics.SystemSampler => {
    made += 1
    return {
      sample: () => {
        const p = sample(taken++)
        pending = p.catch(() => undefined)
        return p
      }
    }
  }
  return {
    get sampler() {
      return sampler()
    },
    support: {
      vars,
      systemSampler: sampler,
      timers: {
        after: () => () => undefined,
        sleep: async () => undefined,
        every: (ms: number, f: () => void) => {
          intervals.push(ms)
          callback = f
          return () => {
            callback = undefined
          }
        }
      }
    },
    tick: async () => {
      callback?.()
      await pending
      for (let i = 0; i < 5; i++) await Promise.resolve()
    },
    intervals,
    active: () => callback !== undefined,
    samplers: () => made
  }
}

t.test('settings: the variables, the option winning, bad values named', async (t) => {
  t.strictSame(systemMetricsSettings({}, undefined), E.right({ enabled: false, intervalMs: DEFAULT_INTERVAL_MS }))
  t.strictSame(systemMetricsSettings({ MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING: 'True' }, undefined), E.right({ enabled: true, intervalMs: 10_000 }))
  t.strictSame(systemMetricsSettings({ MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING: '1' }, false), E.right({ enabled: false, intervalMs: 10_000 }))
  t.strictSame(systemMetricsSettings({ MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING: 'false' }, true), E.right({ enabled: true, intervalMs: 10_000 }))
  t.strictSame(systemMetricsSettings({ MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL: '0.5' }, true), E.right({ enabled: true, intervalMs: 500 }))
  t.strictSame(systemMetricsSettings({ MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL: '0.0001' }, true), E.right({ enabled: true, intervalMs: 1 }))
  const bad = systemMetricsSettings({ MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING: 'yes please' }, undefined)
  t.match(bad, { left: { _tag: 'ConfigError', variable: 'MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING' } })
  for (const v of ['ten', '0', '-1', 'Infinity']) {
    const r = systemMetricsSettings({ MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL: v }, true)
    t.match(r, { left: { _tag: 'ConfigError', variable: 'MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL' } }, v)
    if (E.isLeft(r)) t.match(Errors.describeError(r.left), v)
  }
  t.equal(SYSTEM_METRIC_NAMES.length, 8)
  t.equal(GPU_METRIC_NAMES.length, 5)
})

t.test('a monitor gives its sampler the logger warnings go to', async (t) => {
  const { logger } = captureLogger()
  const given: Array<unknown> = []
  const planned = planSystemMetrics(true, {
    vars: {},
    systemSampler: (l) => {
      given.push(l)
      return { sample: async () => ({}) }
    },
    timers: { after: () => () => undefined, every: () => () => undefined, sleep: async () => undefined },
    clock: { now: () => T0 },
    logger
  })
  if (E.isLeft(planned) || planned.right === undefined) return t.fail('a monitor was planned')
  await planned.right({ runId: 'r1' } as Sink.RunSink).stop()
  t.equal(given.length, 1)
  t.equal(given[0], logger)
})

t.test('an evaluation samples every interval, steps from 0, and stops when the run ends', async (t) => {
  const sink = memorySink()
  const timer = fake({ MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL: '2' })
  let now = T0
  const r = await run(
    evaluate({ experiment: 'sys', systemMetrics: true }, async () => {
      now += 2000
      await timer.tick()
      now += 2000
      await timer.tick()
      return { accuracy: 1 }
    }),
    { sink, clock: { now: () => now }, source: () => fixedSource(), ...timer.support }
  )
  t.ok(E.isRight(r))
  t.strictSame(timer.intervals, [2000])
  t.equal(timer.samplers(), 1)
  t.notOk(timer.active(), 'the timer is cancelled when the run ends')
  const stored = sink.snapshot().runs[0]!
  t.strictSame(stored.metrics['system/cpu_utilization_percentage'], [
    { value: 0, step: 0, timestamp: T0 + 2000 },
    { value: 1, step: 1, timestamp: T0 + 4000 }
  ])
  t.strictSame(stored.metrics['system/network_receive_megabytes']?.map((p) => p.step), [0, 1])
  t.equal(stored.status, 'FINISHED')
})

t.test('sampling stops when the task fails too, and is off unless asked for', async (t) => {
  const sink = memorySink()
  const timer = fake()
  const env = { sink, clock: { now: () => T0 }, source: () => fixedSource(), ...timer.support }
  const failed = await run(
    evaluate({ experiment: 'sys' }, async () => {
      await timer.tick()
      throw new Error('boom')
    }),
    { ...env, vars: { MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING: 'true' } }
  )
  t.ok(E.isLeft(failed))
  t.notOk(timer.active())
  t.equal(sink.snapshot().runs[0]?.status, 'FAILED')
  t.strictSame(Object.keys(sink.snapshot().runs[0]?.metrics ?? {}).sort(), ['system/cpu_utilization_percentage', 'system/network_receive_megabytes'])
  const off = fake()
  await run(evaluate({ experiment: 'sys' }, async () => undefined), { ...env, ...off.support })
  t.equal(off.samplers(), 0, 'no sampler without the option or the variable')
  const bad = await run(evaluate({ experiment: 'sys', systemMetrics: true }, async () => undefined), {
    ...env,
    ...fake({ MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL: 'soon' }).support
  })
  t.match(bad, { left: { _tag: 'ConfigError', variable: 'MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL' } })
  t.equal(sink.snapshot().runs.length, 2, 'a bad variable fails before a run is opened')
})

t.test('without platform support, asking for system metrics warns and samples nothing', async (t) => {
  const { logger, warnings } = captureLogger()
  const sink = memorySink()
  const env = { sink, logger, clock: { now: () => T0 }, source: () => fixedSource() }
  const r = await run(evaluate({ experiment: 'sys', systemMetrics: true }, async () => ({ a: 1 })), { ...env, systemSampler: undefined })
  t.ok(E.isRight(r))
  t.match(warnings, [/system metrics cannot be sampled on this platform/])
  const none = { clock: env.clock, logger, vars: {}, timers: { after: () => () => undefined, every: () => () => undefined, sleep: async () => undefined } }
  t.strictSame(planSystemMetrics(undefined, none), E.right(undefined))
  t.equal(warnings.length, 1)
})

t.test('a slow sample skips ticks; a failing sample or delivery warns once and stops', async (t) => {
  const sink = memorySink()
  const runSink = await (async () => {
    const id = await sink.experiment('m')()
    const opened = await sink.openRun({ experimentId: E.isRight(id) ? id.right : '', runName: 'm', startTime: T0, tags: [] })()
    if (E.isLeft(opened)) throw new Error('open')
    return opened.right
  })()
  let release: () => void = () => undefined
  let slowCalls = 0
  const slow = fake({}, () => {
    slowCalls += 1
    return new Promise((resolve) => {
      release = () => resolve({ cpu_utilization_percentage: 5 })
    })
  })
  const { logger, warnings } = captureLogger()
  const monitor = startMonitor(runSink, slow.sampler, 1000, { ...slow.support, clock: { now: () => T0 }, logger })
  void slow.tick()
  void slow.tick()
  t.equal(slowCalls, 1, 'a tick during a sample is skipped')
  release()
  await monitor.stop()
  t.notOk(slow.active())
  t.strictSame(sink.snapshot().runs[0]?.metrics['system/cpu_utilization_percentage']?.map((p) => p.step), [0])

  const broken = fake({}, () => Promise.reject(new Error('no /proc')))
  startMonitor(runSink, broken.sampler, 1000, { ...broken.support, clock: { now: () => T0 }, logger })
  await broken.tick()
  t.notOk(broken.active(), 'a failing sample ends the sampling')
  const thrown = fake({}, () => Promise.reject('plain'))
  startMonitor(runSink, thrown.sampler, 1000, { ...thrown.support, clock: { now: () => T0 }, logger })
  await thrown.tick()
  const refusing: Sink.RunSink = { ...runSink, logMetrics: () => TE.left(Errors.networkError('connection refused', 'test')) }
  const ok = fake()
  const m = startMonitor(refusing, ok.sampler, 1000, { ...ok.support, clock: { now: () => T0 }, logger })
  await ok.tick()
  await m.stop()
  t.notOk(ok.active())
  t.match(warnings, [/stopped: no \/proc/, /stopped: plain/, /stopped: .*connection refused/])
})
