// The layering of lib/, drawn by its imports (type imports included): each module imports only
// from its own layer or below, no two modules import each other through any chain, and the
// folders (the families) form no circle either.
//
//   errors < capabilities < sink model < pure core < sink families < runtime < barrels < command
import t from 'tap'
import { factsOf, libFiles } from './support/imports.js'

const LAYERS = ['errors', 'capabilities', 'sink model', 'pure core', 'sink families', 'runtime', 'barrels', 'command'] as const
type Layer = (typeof LAYERS)[number]

const SINK_MODEL = new Set(['Scope.ts', 'Records.ts', 'RunQuery.ts', 'Sink.ts'])
const BARRELS = new Set(['Public.ts', 'index.ts', 'index.browser.ts'])

/** The layer of a module of lib/, by where it lives; undefined for a folder no layer holds. */
export const layerOf = (file: string): Layer | undefined => {
  if (file === 'Errors.ts') return 'errors'
  if (file.startsWith('platform/')) return 'capabilities'
  if (SINK_MODEL.has(file)) return 'sink model'
  if (BARRELS.has(file)) return 'barrels'
  if (/^(memory|mlflow|local|system)\//.test(file)) return 'sink families'
  if (file.startsWith('runtime/')) return 'runtime'
  if (file.startsWith('cli/')) return 'command'
  if (!file.includes('/') || file.startsWith('internal/')) return 'pure core'
  return undefined
}

const rank = (layer: Layer): number => LAYERS.indexOf(layer)

/** The arrows of a graph that go up a layer. */
export const upward = (edges: ReadonlyMap<string, ReadonlyArray<string>>): ReadonlyArray<string> =>
  [...edges].flatMap(([from, tos]) =>
    tos.flatMap((to) => {
      const a = layerOf(from)
      const b = layerOf(to)
      return a !== undefined && b !== undefined && rank(b) > rank(a) ? [`${from} (${a}) -> ${to} (${b})`] : []
    })
  )

/** The circles of a graph (its strongly connected components with more than one node, or a self-loop), by Tarjan. */
export const circles = (edges: ReadonlyMap<string, ReadonlyArray<string>>): ReadonlyArray<ReadonlyArray<string>> => {
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: Array<string> = []
  const onStack = new Set<string>()
  const found: Array<Array<string>> = []
  let next = 0
  const visit = (v: string): void => {
    index.set(v, next)
    low.set(v, next)
    next++
    stack.push(v)
    onStack.add(v)
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!))
    }
    if (low.get(v) === index.get(v)) {
      const component: Array<string> = []
      for (let w = stack.pop()!; ; w = stack.pop()!) {
        onStack.delete(w)
        component.push(w)
        if (w === v) break
      }
      if (component.length > 1 || (edges.get(v) ?? []).includes(v)) found.push(component.sort())
    }
  }
  for (const v of [...edges.keys()].sort()) if (!index.has(v)) visit(v)
  return found
}

const files = libFiles()
const known = new Set(files)
/** Every module's imports within lib/, for their values or their types alike. */
const graph = new Map(
  files.map((f) => {
    const facts = factsOf(f)
    return [f, [...new Set([...facts.imports, ...facts.typeImports])].filter((i) => known.has(i) && i !== f).sort()] as const
  })
)
const folderOf = (file: string): string | undefined => (file.includes('/') ? file.slice(0, file.indexOf('/')) : undefined)
/** The folders (families) and which other folders their modules import. */
const folders = new Map<string, Array<string>>()
for (const [from, tos] of graph) {
  const a = folderOf(from)
  if (a === undefined) continue
  const targets = folders.get(a) ?? []
  for (const to of tos) {
    const b = folderOf(to)
    if (b !== undefined && b !== a && !targets.includes(b)) targets.push(b)
  }
  folders.set(a, targets)
}

t.test('the rules themselves: an arrow up a layer, and a circle held by a type import', async (t) => {
  t.same(upward(new Map([['Sink.ts', ['Query.ts']], ['Query.ts', ['Sink.ts']]])), ['Sink.ts (sink model) -> Query.ts (pure core)'])
  t.same(circles(new Map([['Track.ts', ['Env.ts']], ['Env.ts', ['Sink.ts']], ['Sink.ts', ['Query.ts']], ['Query.ts', ['Track.ts']], ['Key.ts', []]])), [
    ['Env.ts', 'Query.ts', 'Sink.ts', 'Track.ts']
  ])
  t.same(circles(new Map([['a.ts', ['a.ts']]])), [['a.ts']], 'a module importing itself')
  t.same(circles(new Map([['a.ts', ['b.ts']], ['b.ts', []]])), [])
  const probe = factsOf('Probe.ts', "import type { LocalSink } from './local/LocalSink.js'\nexport type X = import('./Query.js').RunQuery")
  t.same(probe.typeImports, ['local/LocalSink.ts', 'Query.ts'], 'type imports count, import() types too')
})

t.test(`every module of lib/ has a layer: ${LAYERS.join(' < ')}`, async (t) => {
  t.same(files.filter((f) => layerOf(f) === undefined), [], 'a new folder is placed in a layer here first')
  for (const layer of LAYERS) t.ok(files.some((f) => layerOf(f) === layer), `the ${layer} layer holds modules`)
})

t.test('no import goes up a layer, type imports included', async (t) => {
  t.same(upward(graph), [])
})

t.test('no circle of modules, type imports included', async (t) => {
  t.same(circles(graph), [])
})

t.test('no circle of folders (the families, the platform, the runtime, the command)', async (t) => {
  t.same(circles(folders), [])
  t.ok(folders.size >= 6, `${folders.size} folders: ${[...folders.keys()].sort().join(', ')}`)
})
