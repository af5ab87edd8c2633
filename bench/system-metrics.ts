// The cost of system metrics: one sample's work (what the monitor does once per interval),
// wall and CPU time, on Node's sampler, and the share of MLflow's default 10 s interval it
// takes. Not a test: it prints figures and asserts none.
//   node --import tsx --conditions=charmory-track-source bench/system-metrics.ts [--samples N]
import { parseArgs } from 'node:util'
import * as E from 'fp-ts/lib/Either.js'
import { memorySink, SystemMetrics } from 'charmory-track'
import { nodeSampler } from '../lib/system/nodeSampler.js'

const { values } = parseArgs({ options: { samples: { type: 'string', default: '500' } } })
const n = Math.max(10, Number(values.samples))

const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)] ?? NaN
}

const sink = memorySink()
const experimentId = await sink.experiment('bench')()
const opened = E.isRight(experimentId)
  ? await sink.openRun({ experimentId: experimentId.right, runName: 'bench', startTime: Date.now(), tags: [] })()
  : experimentId
if (E.isLeft(opened)) throw new Error('could not open a memory run')

// One tick of the monitor, driven by hand: the sample and its delivery to the sink.
let fire: () => void = () => undefined
const logger = { warn: (m: string) => console.error(m), info: () => undefined }
const monitor = SystemMetrics.startMonitor(opened.right, nodeSampler({ logger }), 10_000, {
  timers: { after: () => () => undefined, every: (_ms, f) => ((fire = f), () => undefined), sleep: async () => undefined },
  clock: { now: () => Date.now() },
  logger
})
const sampler = nodeSampler({ logger })
for (let i = 0; i < 20; i++) await sampler.sample() // warm-up

const wall: Array<number> = []
const cpu: Array<number> = []
for (let i = 0; i < n; i++) {
  const c0 = process.cpuUsage()
  const t0 = process.hrtime.bigint()
  fire()
  await monitor.stop() // waits for the tick's sample and delivery (and cancels nothing more)
  const t1 = process.hrtime.bigint()
  const c1 = process.cpuUsage(c0)
  wall.push(Number(t1 - t0) / 1000)
  cpu.push(c1.user + c1.system)
}
const w = median(wall)
const c = median(cpu)
console.log(`system metrics: ${n} samples (Node ${process.versions.node}, ${process.platform})`)
console.log(`one sample and its delivery: ${w.toFixed(0)} µs wall, ${c.toFixed(0)} µs CPU (medians)`)
console.log(`share of a 10 s interval: ${((c / 10_000_000) * 100).toFixed(4)} % CPU`)
