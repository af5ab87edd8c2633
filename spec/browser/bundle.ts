// A browser bundle of the library holds no Node built-in: the memory-sink and MLflow-sink
// programs (spec/support/pages/) are bundled with esbuild for the browser, as a user's bundler
// would (the `browser` export condition), and their metafiles are searched for `node:*` and
// other built-in imports, for the Node-only families (the local store, the command, the Node
// platform) and for Node's globals. The memory-sink program then runs in Chromium.
import t from 'tap'
import { builtinModules } from 'node:module'
import { browserEntryFor, bundlePage, pageHostFor, type Bundle } from '../support/browser.js'

if (!browserEntryFor(t)) process.exit(0)

const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]))
const isBuiltin = (path: string): boolean => path.startsWith('node:') || builtins.has(path) || builtins.has(path.split('/')[0] ?? '')

/** The bundle, or the esbuild errors (a Node built-in fails to resolve for the browser). */
const bundled = async (page: string): Promise<Bundle | string> => {
  try {
    return await bundlePage(page)
  } catch (e) {
    const { errors } = e as { errors?: Array<{ text: string; location?: { file: string } | null }> }
    return (errors ?? [{ text: String(e) }]).map((x) => `${x.location?.file ?? '?'}: ${x.text}`).join('\n')
  }
}

for (const page of ['spec/support/pages/memory.ts', 'spec/support/pages/mlflow.ts']) {
  t.test(`${page} bundles for the browser without Node`, async (t) => {
    const bundle = await bundled(page)
    if (typeof bundle === 'string') return void t.fail(`esbuild could not bundle it for the browser:\n${bundle}`)
    const inputs = Object.entries(bundle.metafile.inputs)
    const builtinImports = inputs.flatMap(([file, input]) =>
      input.imports.filter((i) => isBuiltin(i.path) || i.path.includes('(disabled)')).map((i) => `${file} imports ${i.path}`)
    )
    t.strictSame(builtinImports, [], 'no input imports a Node built-in')
    t.strictSame(
      inputs.map(([file]) => file).filter((f) => /(^|\/)lib\/(cli|local)\/|(^|\/)lib\/platform\/node/.test(f)),
      [],
      'no Node-only module of the library'
    )
    t.ok(inputs.some(([file]) => file.endsWith('lib/index.browser.ts')), 'the browser entry is the one bundled')
    // a dependency may look for Node and do without it (ini: `typeof process !== 'undefined' && process.platform`)
    const unguarded = bundle.js.replace(/typeof (process|Buffer)\s*!==?\s*["']undefined["']\s*&&\s*\1\.\w+/g, '')
    const globals = [...new Set(unguarded.match(/\b(process\.(env|argv|on|once|cwd|exit|platform|stdout|stderr|hrtime|memoryUsage)|Buffer\.\w+|__dirname|__filename)\b/g) ?? [])]
    t.strictSame(globals, [], 'no Node global')
  })
}

t.test('the memory-sink program runs in Chromium', async (t) => {
  const host = await pageHostFor(t)
  if (host === undefined) return
  const bundle = await bundled('spec/support/pages/memory.ts')
  if (typeof bundle === 'string') return void t.fail(bundle)
  t.match(await host.run(bundle), {
    tag: 'Right',
    params: { 'loadModel.name': 'resnet18', 'loadModel.optimizer.lr': '0.001', batch_size: '16' },
    metrics: { loss: [{ value: 0.9, step: 0 }, { value: 0.5, step: 1 }, { value: 0.25, step: 2 }], accuracy: [{ value: 0.875, step: 0 }] }
  })
})
