// Reads a V8 .cpuprofile (written by `node --cpu-prof`) and ranks its frames by self time.
import { readFileSync } from 'node:fs'

interface CallFrame {
  readonly functionName: string
  readonly url: string
  readonly lineNumber: number
}

interface ProfileNode {
  readonly id: number
  readonly callFrame: CallFrame
}

interface Profile {
  readonly nodes: ReadonlyArray<ProfileNode>
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}

export interface Frame {
  readonly name: string
  readonly ms: number
  readonly share: number
}

/** Where self time goes, coarsely: the library, its transport, Node's HTTP, loading code, GC. */
export const categoryOf = (name: string): string => {
  if (name.startsWith('(garbage collector)')) return 'garbage collection'
  if (name.startsWith('(idle)') || name.startsWith('(program)')) return 'idle'
  if (/ lib\//.test(name)) return 'charmory-track (lib/)'
  if (/node-fetch|cross-fetch|whatwg-url|tr46/.test(name)) return 'node-fetch (behind cross-fetch)'
  if (/fp-ts|io-ts/.test(name)) return 'fp-ts / io-ts'
  if (/modules\/|cjs-module-lexer|tsx\/|bootstrap\/realm|esm\//.test(name)) return 'loading code (tsx, ESM loader)'
  if (/ bench\//.test(name)) return 'the bench itself'
  return 'Node and V8 (http, net, streams, timers, promises)'
}

/** Where a frame lives, short: `lib/mlflow/Http.js:139`, `node:_http_client:537`, `fp-ts/lib/function.js:361`. */
const where = (f: CallFrame): string => {
  if (f.url === '') return ''
  const url = f.url.replace(/^file:\/\//, '')
  const short = url.includes('/node_modules/')
    ? url.slice(url.lastIndexOf('/node_modules/') + '/node_modules/'.length)
    : url.replace(/^.*\/\.bench\/build\//, 'lib/').replace(/^.*\/(lib|bench)\//, '$1/')
  return `${short}:${f.lineNumber + 1}`
}

/** Frames by self time, and the total sampled time, in milliseconds. */
export const selfTimes = (path: string): { readonly totalMs: number; readonly frames: ReadonlyArray<Frame> } => {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as Profile
  const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]))
  const self = new Map<string, number>()
  let total = 0
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id)
    const dt = profile.timeDeltas[i] ?? 0
    total += dt
    if (frame === undefined) return
    const name = `${frame.functionName === '' ? '(anonymous)' : frame.functionName} ${where(frame)}`.trim()
    self.set(name, (self.get(name) ?? 0) + dt)
  })
  const frames = [...self]
    .map(([name, us]) => ({ name, ms: us / 1000, share: us / total }))
    .sort((a, b) => b.ms - a.ms)
  return { totalMs: total / 1000, frames }
}
