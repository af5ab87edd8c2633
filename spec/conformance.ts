// The shared behaviour suite (spec/support/behaviour.ts) against the in-memory sink, read
// back from its snapshot.
import t from 'tap'
import { memorySink } from 'charmory-track'
import { behaviourSuite, type RunView } from './support/behaviour.js'

await behaviourSuite(t, 'memory sink', async () => {
  const sink = memorySink()
  const readRun = async (runId: string): Promise<RunView> => {
    const r = sink.snapshot().runs.find((x) => x.runId === runId)
    if (r === undefined) throw new Error(`no run ${runId} in the memory sink`)
    const byStep = (points: ReadonlyArray<RunView['metrics'][string][number]>) =>
      [...points].sort((a, b) => a.step - b.step || a.timestamp - b.timestamp)
    return {
      status: r.status,
      startTime: r.startTime,
      endTime: r.endTime,
      params: { ...r.params },
      metrics: Object.fromEntries(Object.entries(r.metrics).map(([k, points]) => [k, byStep(points)])),
      tags: { ...r.tags },
      artifacts: { ...r.artifacts }
    }
  }
  return { sink, readRun, close: async () => undefined }
})
