// `npm pack` gives a package that a fresh project installs and imports, with types that
// check there. Installing is offline (from npm's cache, filled by `npm ci`): tests reach
// nothing beyond loopback.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const root = resolve(new URL('..', import.meta.url).pathname)
const env = { ...process.env }
delete env['NODE_V8_COVERAGE']
delete env['NODE_OPTIONS']
// tap's process tracker would otherwise measure the children against lib/'s line numbers
env['_TAPJS_PROCESSINFO_COVERAGE_'] = '0'
const sh = (cmd: string, args: Array<string>, cwd: string): string =>
  execFileSync(cmd, args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })

t.test('the packed tarball installs, imports and type-checks in a fresh project', async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'charmory-pack-'))
  const listing = JSON.parse(sh('npm', ['pack', '--json', '--pack-destination', out], root)) as Array<{
    filename: string
    files: Array<{ path: string }>
  }>
  const packed = listing[0]
  if (packed === undefined) return t.fail('npm pack listed nothing')
  const files = packed.files.map((f) => f.path)
  for (const f of ['dist/index.js', 'dist/index.d.ts', 'dist/sinks/mlflow.js', 'package.json', 'README.md', 'LICENSE']) {
    t.ok(files.includes(f), `the tarball holds ${f}`)
  }
  t.notOk(files.some((f) => f.startsWith('spec/') || f.startsWith('.venv/')), 'no specs or virtualenv')

  const app = mkdtempSync(join(tmpdir(), 'charmory-app-'))
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', type: 'module', private: true }))
  // a Node project of TypeScript has @types/node, as this one does
  const typesNode = (JSON.parse(sh('npm', ['ls', '@types/node', '--json', '--depth=0'], root)) as {
    dependencies: Record<string, { version: string }>
  }).dependencies['@types/node']?.version
  sh(
    'npm',
    ['install', '--offline', '--no-audit', '--no-fund', join(out, readdirSync(out)[0] ?? ''), `@types/node@${typesNode}`],
    app
  )
  writeFileSync(
    join(app, 'main.ts'),
    [
      "import { pipe } from 'fp-ts/lib/function.js'",
      "import { evaluate, memorySink, run, Track, trackParam, withParams, fromTracked } from 'charmory-track'",
      'const load = (o: { name: string }) => o.name',
      'const program = pipe(',
      "  fromTracked(withParams(load)({ name: 'm' })),",
      "  Track.flatMap(() => trackParam('batch', 4)),",
      "  Track.flatMap(() => evaluate({ experiment: 'packed' }, async (r) => { await r.logMetric('x', 1); return { acc: 1 } }))",
      ')',
      'const sink = memorySink()',
      'const result = await run(program, { sink })',
      "const id: string = result._tag === 'Right' ? result.right.runId : 'failed'",
      'console.log(JSON.stringify({ id, params: sink.snapshot().runs[0]?.params }))',
      ''
    ].join('\n')
  )
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, outDir: 'out', types: ['node'] },
      files: ['main.ts']
    })
  )
  sh(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], app)
  const printed = JSON.parse(sh(process.execPath, ['out/main.js'], app)) as { id: string; params: Record<string, string> }
  t.match(printed.id, /^[0-9a-f]{32}$/)
  t.match(printed.params, { 'load.name': 'm', batch: '4' })
})
