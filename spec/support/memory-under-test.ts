// The memory sink under the shared behaviour suite, read back from its snapshot: used by
// spec/conformance.ts in Node and by the behaviour page in a browser.
import { memorySink } from 'charmory-track'
import type { RunView, SinkUnderTest } from './behaviour.js'

export const memoryUnderTest = async (): Promise<SinkUnderTest> => {
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
}
