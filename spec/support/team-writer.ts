// One writer of the team specs (spec/integration/team.ts), run as a child process: an
// `evaluate` on the sink the environment names (`MLFLOW_TRACKING_URI`, `CHARMORY_TRACK_FALLBACK`,
// `ARMORY_HOME`, `MLFLOW_HTTP_REQUEST_*`), as a program on one of a team's machines would be.
//
//   team-writer.ts <experiment> <writer> <points> [hold]
//
// Writer w records the params `p00` ... `p19` = `w<w>.<k>` and `points` metric points, keys
// `m0` ... `m4` in turn (point i is key `m<i mod 5>`, step i, value `teamValue(w, i)`,
// timestamp 1,700,000,000,000 + i), and the artifact `writer.txt`. It prints a line `half` once
// half the points are logged and, with `hold` = 1, waits there for a line on its standard input
// (the spec breaks something in between); each warning as `warn <message>`; and at the end
// `result <json>`: the run id and the evaluation's result.
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import { Errors, Platform, evaluate, run, sinkFromEnv, Track, trackParam } from 'charmory-track'
import { teamParams, teamPoint } from './team-data.js'

const [experiment = 'team', writerText = '0', pointsText = '5000', hold = '0'] = process.argv.slice(2)
const writer = Number(writerText)
const points = Number(pointsText)

const line = (text: string): void => void process.stdout.write(`${text.replace(/\n/g, ' ')}\n`)
const logger: Platform.Logger = { warn: (m) => line(`warn ${m}`), info: () => undefined }
const sink = sinkFromEnv()
const goAhead = (): Promise<void> =>
  new Promise((ok) => {
    process.stdin.setEncoding('utf8').once('data', () => {
      process.stdin.pause()
      ok()
    })
  })

let runId: string | undefined
const result = await run(
  pipe(
    Object.entries(teamParams(writer)),
    Track.traverseArray(([key, value]) => trackParam(key, value)),
    Track.flatMap(() =>
      evaluate({ experiment, runName: `writer-${writer}`, resultsArtifact: false }, async (r) => {
        runId = r.runId
        await r.logText('writer.txt', `writer ${writer}\n`)
        for (let i = 0; i < points; i++) {
          const p = teamPoint(writer, i)
          await r.logMetric(p.key, p.value, { step: p.step, timestamp: p.timestamp })
          if (i + 1 === points >> 1) {
            line('half')
            if (hold === '1') await goAhead()
          }
        }
        return {}
      })
    )
  ),
  { sink, logger, signals: false }
)
line(`result ${JSON.stringify(E.isLeft(result) ? { runId, left: result.left._tag, message: Errors.describeError(result.left) } : { runId: result.right.runId })}`)
