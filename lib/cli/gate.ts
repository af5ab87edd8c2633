/**
 * `charmory-track gate --metric M [--baseline best|RUN_ID] [--tolerance T] [--experiment NAME]
 * [--run RUN_ID] [--lower-is-better|--higher-is-better] [--json] [--from URI]`: fails (exit 1)
 * with a one-line reason when the newest finished run is worse than the baseline beyond the
 * tolerance, for a CI script.
 *
 * @since 0.2.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { gate, type GateOptions } from '../Gate.js'
import { command } from './Command.js'
import { toJson, withRuns } from './source.js'

/**
 * @category constants
 * @since 0.2.0
 */
export const usage = `Usage: charmory-track gate --metric NAME [--baseline best|RUN_ID] [--tolerance T]
                          [--experiment NAME] [--run RUN_ID] [--lower-is-better | --higher-is-better]
                          [--json] [--from URI]

A regression gate for CI: compares the metric of the newest finished run of the experiment
(or of --run) with the baseline, the best other finished run or the run RUN_ID. Prints one
line: "ok: ..." and exits 0, or "regression: ..." and exits 1 when the run is worse than the
baseline by more than the tolerance. Exits 1 with the error when it cannot judge (no finished
run, the metric missing, a server that cannot be reached), 2 on a usage error.

  --metric NAME        the metric to judge (required)
  --baseline B         best (the default) or a run id
  --tolerance T        how much worse still passes, in the metric's units (default 0)
  --experiment NAME    the experiment (default: the experiment of the baseline run)
  --run RUN_ID         judge this run instead of the newest finished one
  --lower-is-better    the metric improves downwards (the default for names such as loss,
                       error, mse, perplexity, latency)
  --higher-is-better   the metric improves upwards (the default otherwise)
  --json               the verdict as JSON
  --from URI           the MLflow server at this http(s):// address, with the environment's
                       credentials; the local store otherwise
  -h, --help           this help
`

/**
 * Runs the command; yields the exit code.
 * @category interpreters
 * @since 0.2.0
 */
export const gateCommand = command({
  name: 'gate',
  usage,
  flags: {
    metric: { type: 'string' },
    baseline: { type: 'string' },
    tolerance: { type: 'string' },
    experiment: { type: 'string' },
    run: { type: 'string' },
    'lower-is-better': { type: 'boolean' },
    'higher-is-better': { type: 'boolean' },
    json: { type: 'boolean' },
    from: { type: 'string' }
  },
  run: async ({ flags, usageError, failed }, io) => {
    if (flags.metric === undefined || flags.metric === '') return usageError('--metric is needed')
    const tolerance = flags.tolerance === undefined ? 0 : Number(flags.tolerance)
    if (flags.tolerance?.trim() === '' || !(Number.isFinite(tolerance) && tolerance >= 0)) {
      return usageError(`--tolerance takes a number of 0 or more, not ${JSON.stringify(flags.tolerance)}`)
    }
    if (flags['lower-is-better'] === true && flags['higher-is-better'] === true) {
      return usageError('--lower-is-better and --higher-is-better exclude each other')
    }
    const options: GateOptions = {
      metric: flags.metric,
      tolerance,
      baseline: flags.baseline ?? 'best',
      ...(flags.experiment === undefined ? {} : { experiment: flags.experiment }),
      ...(flags.run === undefined ? {} : { candidate: flags.run }),
      ...(flags['lower-is-better'] === true ? { direction: 'lower' as const } : {}),
      ...(flags['higher-is-better'] === true ? { direction: 'higher' as const } : {})
    }
    if (options.experiment === undefined && options.baseline === 'best' && options.candidate === undefined) {
      return usageError('--experiment is needed with --baseline best (or name a baseline or --run by id)')
    }
    return withRuns(io, flags.from, failed, async ({ query }) => {
      const verdict = await gate(query, options)()
      if (E.isRight(verdict)) {
        io.stdout.write(flags.json === true ? toJson(verdict.right) : `${verdict.right.reason}\n`)
        return 0
      }
      if (verdict.left._tag !== 'Regression') return failed(verdict.left)
      io.stdout.write(flags.json === true ? toJson({ ok: false, ...verdict.left, _tag: undefined }) : `regression: ${verdict.left.reason}\n`)
      return 1
    })
  }
})
