/**
 * System metrics: while a run is open, CPU, memory, disk, network and GPU figures of the machine,
 * sampled every `MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL` seconds (10 by default) and logged
 * under the names MLflow's own monitor uses (`system/cpu_utilization_percentage`, ...), so
 * that the MLflow UI's System metrics tab shows them.
 *
 * Opt in per evaluation (`evaluate({ experiment, systemMetrics: true })`) or for every
 * evaluation with `MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING=true`; `systemMetrics: false` wins
 * over the variable. As in MLflow, the first sample is logged one interval after the run
 * starts, at step 0, the next at step 1, and so on; sampling stops when the run ends, also
 * when the task fails.
 *
 * This module is pure: how a sample is taken, how time passes and the variables come from the
 * platform given to `run` (`Platform.systemSampler`, `timers`, `vars`; Node's sampler is
 * lib/system/nodeSampler.ts). Where the platform has no sampler (a browser),
 * `systemMetrics: true` logs one warning and samples nothing.
 *
 * @example
 * import { evaluate, run, memorySink } from 'charmory-track'
 *
 * await run(evaluate({ experiment: 'mnist', systemMetrics: true }, async () => ({ accuracy: 0.9 })), {
 *   sink: memorySink()
 * })
 *
 * @since 0.2.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { configError, describeError, describeUnknown, isTrackError, type TrackError } from './Errors.js'
import type { Platform, SystemSampler } from './platform/Platform.js'
import type { Metric } from './Records.js'
import type { RunSink } from './Sink.js'

export type { SystemSample, SystemSampler } from './platform/Platform.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * What system metrics take from the platform: its sampler, timers, clock, logger and variables
 * (`MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING`, `MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL`).
 * @category model
 * @since 0.3.0
 */
export type MonitorEnv = Pick<Platform, 'systemSampler' | 'timers' | 'clock' | 'logger' | 'vars'>

/**
 * Whether to sample, and how often (milliseconds).
 * @category model
 * @since 0.2.0
 */
export interface SystemMetricsSettings {
  readonly enabled: boolean
  readonly intervalMs: number
}

/**
 * A running monitor; `stop` cancels the timer and waits for a sample being logged.
 * @category model
 * @since 0.2.0
 */
export interface Monitor {
  readonly stop: () => Promise<void>
}

// -------------------------------------------------------------------------------------
// constants
// -------------------------------------------------------------------------------------

/**
 * The prefix MLflow gives system metrics.
 * @category constants
 * @since 0.2.0
 */
export const SYSTEM_PREFIX = 'system/'

/**
 * The names MLflow 3.18's CPU, disk and network monitors log (without the prefix). GPU
 * metrics (`gpu_{i}_...`, per GPU, when `nvidia-smi` is on the `PATH`) are not listed: see
 * `GPU_METRIC_NAMES`.
 * @category constants
 * @since 0.2.0
 */
export const SYSTEM_METRIC_NAMES: ReadonlyArray<string> = [
  'cpu_utilization_percentage',
  'system_memory_usage_megabytes',
  'system_memory_usage_percentage',
  'disk_usage_percentage',
  'disk_usage_megabytes',
  'disk_available_megabytes',
  'network_receive_megabytes',
  'network_transmit_megabytes'
]

/**
 * The names MLflow 3.18's GPU monitor logs for each GPU (without the prefix), `{i}` standing
 * for the GPU's index: `gpu_0_utilization_percentage`, ...
 * @category constants
 * @since 0.2.0
 */
export const GPU_METRIC_NAMES: ReadonlyArray<string> = [
  'gpu_{i}_memory_usage_percentage',
  'gpu_{i}_memory_usage_megabytes',
  'gpu_{i}_utilization_percentage',
  'gpu_{i}_power_usage_watts',
  'gpu_{i}_power_usage_percentage'
]

/**
 * MLflow's default sampling interval, 10 seconds.
 * @category constants
 * @since 0.2.0
 */
export const DEFAULT_INTERVAL_MS = 10_000

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

const ENABLE = 'MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING'
const INTERVAL = 'MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL'

/**
 * The settings the variables give, `requested` (an evaluation's `systemMetrics`) winning over
 * `MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING` (`true`/`1` on, `false`/`0`/empty off, as MLflow
 * reads booleans). The interval is a positive number of seconds; anything else is a
 * `ConfigError` naming the variable.
 * @category utils
 * @since 0.2.0
 */
export const systemMetricsSettings = (
  vars: Readonly<Record<string, string | undefined>>,
  requested: boolean | undefined
): E.Either<TrackError, SystemMetricsSettings> => {
  const flag = (vars[ENABLE] ?? '').trim().toLowerCase()
  if (!['', 'true', '1', 'false', '0'].includes(flag)) {
    return E.left(configError(ENABLE, `expected true or false, got "${String(vars[ENABLE])}"`))
  }
  const enabled = requested ?? (flag === 'true' || flag === '1')
  const raw = (vars[INTERVAL] ?? '').trim()
  if (raw === '') return E.right({ enabled, intervalMs: DEFAULT_INTERVAL_MS })
  const seconds = Number(raw)
  if (!Number.isFinite(seconds) || seconds <= 0) {
    return E.left(configError(INTERVAL, `expected a positive number of seconds, got "${raw}"`))
  }
  return E.right({ enabled, intervalMs: Math.max(1, Math.round(seconds * 1000)) })
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/**
 * Samples every `intervalMs` into `run`, step 0 first, each point stamped with the clock's
 * time when the sample was taken. A tick that comes while a sample is still being taken is
 * skipped, so a slow machine gets fewer samples rather than a pile of them. A failing sample
 * or delivery is warned about once and ends the sampling (as in MLflow); the run goes on.
 * @category constructors
 * @since 0.2.0
 */
export const startMonitor = (
  run: RunSink,
  sampler: SystemSampler,
  intervalMs: number,
  env: Pick<Platform, 'timers' | 'clock' | 'logger'>
): Monitor => {
  let step = 0
  let inFlight: Promise<void> | undefined
  let cancel: (() => void) | undefined
  const halt = (): void => {
    cancel?.()
    cancel = undefined
  }
  const tick = async (): Promise<void> => {
    try {
      const sample = await sampler.sample()
      const timestamp = env.clock.now()
      const points: Array<Metric> = Object.entries(sample).map(([k, value]) => ({
        key: `${SYSTEM_PREFIX}${k}`,
        value,
        timestamp,
        step
      }))
      step += 1
      const logged = await run.logMetrics(points)()
      if (E.isLeft(logged)) throw logged.left
    } catch (e) {
      halt()
      env.logger.warn(`system metrics of run ${run.runId} stopped: ${reasonOf(e)}`)
    }
  }
  cancel = env.timers.every(intervalMs, () => {
    if (inFlight !== undefined) return
    inFlight = tick().finally(() => {
      inFlight = undefined
    })
  })
  return {
    stop: async () => {
      halt()
      await inFlight
    }
  }
}

const reasonOf = (e: unknown): string => (isTrackError(e) ? describeError(e) : describeUnknown(e))

/**
 * What an evaluation does about system metrics: `requested` is its `systemMetrics` option.
 * Yields the function that starts a monitor on the opened run, or `undefined` when sampling
 * is off; a `ConfigError` when a variable cannot be read. Without platform support,
 * `requested: true` warns once and samples nothing.
 * @category constructors
 * @since 0.2.0
 */
export const planSystemMetrics = (
  requested: boolean | undefined,
  env: MonitorEnv
): E.Either<TrackError, ((run: RunSink) => Monitor) | undefined> => {
  const sampler = env.systemSampler
  if (sampler === undefined) {
    if (requested === true) env.logger.warn('system metrics cannot be sampled on this platform; none are logged')
    return E.right(undefined)
  }
  return E.map((s: SystemMetricsSettings) =>
    s.enabled ? (run: RunSink): Monitor => startMonitor(run, sampler(env.logger), s.intervalMs, env) : undefined
  )(systemMetricsSettings(env.vars, requested))
}
