// `npm pack` gives a package that a fresh project installs and imports, with types that
// check there. Nothing is fetched: the tarball is unpacked into the project's node_modules,
// and its dependencies are linked from what `npm ci` installed here (tests reach nothing
// beyond loopback, and a fresh machine's npm cache holds no registry metadata).
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'

const root = resolve(new URL('..', import.meta.url).pathname)
const modules = join(root, 'node_modules')
const env = { ...process.env }
delete env['NODE_V8_COVERAGE']
delete env['NODE_OPTIONS']
// tap's process tracker would otherwise measure the children against lib/'s line numbers
env['_TAPJS_PROCESSINFO_COVERAGE_'] = '0'
const sh = (cmd: string, args: Array<string>, cwd: string): string =>
  execFileSync(cmd, args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })

interface Manifest {
  readonly dependencies?: Record<string, string>
  readonly peerDependencies?: Record<string, string>
  readonly optionalDependencies?: Record<string, string>
}
const manifest = (dir: string): Manifest => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest

/** Where Node would find `name` from a package at `from`: its own node_modules, then upwards to the root's. */
const locate = (name: string, from: string): string | undefined => {
  for (let dir = from; dir.startsWith(modules); dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name)
    if (existsSync(join(candidate, 'package.json'))) return candidate
  }
  const top = join(modules, name)
  return existsSync(join(top, 'package.json')) ? top : undefined
}

/**
 * Installs `packages` (and everything they depend on) into `app/node_modules` as links to
 * this project's node_modules: the top-level folders a fresh `npm install` would create.
 */
const linkFromLockedInstall = (app: string, packages: ReadonlyArray<string>, from: string): void => {
  const seen = new Set<string>()
  const visit = (name: string, parent: string): void => {
    const dir = locate(name, parent)
    if (dir === undefined || seen.has(dir)) return
    seen.add(dir)
    // a package nested under another is reached through its parent's link
    if (dir === join(modules, name)) {
      const target = join(app, 'node_modules', name)
      if (!existsSync(target)) {
        mkdirSync(dirname(target), { recursive: true })
        symlinkSync(dir, target, 'dir')
      }
    }
    const m = manifest(dir)
    for (const dep of Object.keys({ ...m.dependencies, ...m.optionalDependencies, ...m.peerDependencies })) visit(dep, dir)
  }
  for (const name of packages) visit(name, from)
}

/** Packs this project once; the tarball's path and the files it holds. */
const pack = (() => {
  let packed: { tarball: string; files: Array<string> } | undefined
  return () => {
    if (packed !== undefined) return packed
    const out = mkdtempSync(join(tmpdir(), 'charmory-pack-'))
    const [listing] = JSON.parse(sh('npm', ['pack', '--json', '--pack-destination', out], root)) as Array<{
      filename: string
      files: Array<{ path: string }>
    }>
    if (listing === undefined) throw new Error('npm pack listed nothing')
    packed = { tarball: join(out, readdirSync(out)[0] ?? ''), files: listing.files.map((f) => f.path) }
    return packed
  }
})()

/** A fresh project with the packed charmory-track and its dependencies, plus `extra` packages. */
const freshProject = (packageJson: object, extra: ReadonlyArray<string>): string => {
  const app = mkdtempSync(join(tmpdir(), 'charmory-app-'))
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true, ...packageJson }))
  const installed = join(app, 'node_modules', 'charmory-track')
  mkdirSync(installed, { recursive: true })
  sh('tar', ['-xzf', pack().tarball, '-C', installed, '--strip-components=1'], app)
  const deps = Object.keys({ ...manifest(installed).dependencies, ...manifest(installed).peerDependencies })
  linkFromLockedInstall(app, deps, modules)
  linkFromLockedInstall(app, extra, modules)
  return app
}

t.test('the packed tarball installs, imports and type-checks in a fresh project', async (t) => {
  const { files } = pack()
  for (const f of ['dist/index.js', 'dist/index.d.ts', 'dist/sinks/mlflow.js', 'package.json', 'README.md', 'LICENSE']) {
    t.ok(files.includes(f), `the tarball holds ${f}`)
  }
  t.notOk(files.some((f) => f.startsWith('spec/') || f.startsWith('.venv/')), 'no specs or virtualenv')

  // a Node project of TypeScript has @types/node, as this one does
  const app = freshProject({ type: 'module' }, ['@types/node'])
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
