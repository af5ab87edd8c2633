// The import boundary: only the Node platform and the Node-only families (the local store,
// the command, the Node samplers) touch Node. Every other module of lib/ imports no `node:*`
// module, reads no Node global (`process`, `Buffer`, `require`, `__dirname`), and imports a
// Node-only module for its types at most; the browser entry reaches no Node-only module.
import t from 'tap'
import { factsOf, libFiles } from './support/imports.js'

const files = libFiles()

/** The modules allowed to touch Node. */
const nodeOnly = (file: string): boolean =>
  file === 'platform/node.ts' || file === 'runtime/node.ts' || file === 'index.ts' || /^(local|cli)\//.test(file) || /^system\/node[A-Z]\w*\.ts$/.test(file)

/** The platform's implementations: the only modules that reach the clock, timers and randomness. */
const platformImplementation = (file: string): boolean => /^platform\/(node|browser|web)\.ts$/.test(file)

const facts = new Map(files.map((f) => [f, factsOf(f)]))

t.test('the rule itself: what counts as touching Node, or the world outside the platform', async (t) => {
  const probe = factsOf(
    'Probe.ts',
    [
      "import { readFile } from 'node:fs/promises'",
      "import type { LocalSink } from './local/LocalSink.js'",
      "import { type Platform } from './platform/Platform.js'",
      "export { run } from './platform/node.js'",
      "const os = await import('node:os')",
      "const p = { process: 1 }; p.process; const Buffer = 2",
      'process.env.HOME; globalThis.process; require("x")'
    ].join('\n')
  )
  t.strictSame(probe.imports, ['node:fs/promises', 'platform/node.ts', 'node:os'])
  t.strictSame(probe.typeImports, ['local/LocalSink.ts', 'platform/Platform.ts'])
  t.strictSame(probe.globals, ['process (line 7)', 'require (line 7)'])
  const outside = factsOf(
    'Probe.ts',
    [
      "import { createHash, randomUUID } from 'node:crypto'",
      'Date.now(); Math.random(); setTimeout(() => 1, 5); performance.now()',
      'globalThis.crypto.getRandomValues(new Uint8Array(1)); crypto.randomUUID()',
      'const fetch = (x: string) => x; fetch("mine")',
      'const clock = { now: () => 1 }; clock.now()'
    ].join('\n')
  )
  t.strictSame(outside.outside, [
    'node:crypto randomUUID (line 1)',
    'Date.now (line 2)',
    'Math.random (line 2)',
    'setTimeout (line 2)',
    'performance.now (line 2)',
    'globalThis.crypto (line 3)',
    'crypto (line 3)'
  ], 'a name of its own called fetch, and a clock of its own, are no way out; a content hash is none either')
})

t.test('no module outside the platform and the Node-only families imports node:* or reads a Node global', async (t) => {
  const universal = files.filter((f) => !nodeOnly(f))
  t.ok(universal.length > 30, `${universal.length} universal modules`)
  for (const file of universal) {
    const f = facts.get(file)!
    t.strictSame(f.imports.filter((i) => i.startsWith('node:') || i === '<dynamic>'), [], `${file}: no node:* import`)
    t.strictSame(f.globals, [], `${file}: no Node global`)
    t.strictSame(f.imports.filter((i) => files.includes(i) && nodeOnly(i)), [], `${file}: no Node-only module but for its types`)
  }
})

t.test('nothing outside the platform implementations reaches the clock, timers, randomness or a browser global', async (t) => {
  for (const file of files.filter((f) => !platformImplementation(f))) t.strictSame(facts.get(file)!.outside, [], file)
  for (const file of files.filter(platformImplementation)) t.ok(facts.get(file)!.outside.length > 0, `${file} is where they are reached`)
})

t.test('the browser entry reaches no Node-only module and no node:* import', async (t) => {
  const seen = new Set<string>()
  const queue = ['index.browser.ts']
  while (queue.length > 0) {
    const file = queue.pop()!
    if (seen.has(file)) continue
    seen.add(file)
    const f = facts.get(file)
    if (f === undefined) return t.fail(`${file} is not a module of lib/`)
    for (const i of f.imports) if (files.includes(i)) queue.push(i)
    t.notOk(nodeOnly(file), `${file} is reached from the browser entry`)
    t.strictSame(f.imports.filter((i) => i.startsWith('node:')), [], `${file}: no node:* import`)
  }
  t.ok(seen.has('platform/browser.ts') && seen.has('mlflow/MlflowSink.ts') && seen.has('memory/MemorySink.ts'), 'it reaches the browser platform and the sinks')
})
