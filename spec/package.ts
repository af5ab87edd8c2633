// `npm pack` gives a package that fresh projects install and use as their authors would: an
// ES module project, a CommonJS one (plain `require` and TypeScript compiled to CommonJS), a
// bundler-resolution project without @types/node bundled for the browser, and a project on
// the oldest fp-ts and io-ts that the peer ranges admit. Every project's types are checked
// with `skipLibCheck: false`, so the published .d.ts files are checked too, and every
// program is run. Nothing is fetched: the tarball is unpacked into the project's
// node_modules, and its dependencies are linked from what `npm ci` installed here (tests reach
// nothing beyond loopback, and a fresh machine's npm cache holds no registry metadata).
// The projects are checked side by side (their compilers are separate processes), once the
// one tarball they share is packed.
import t, { type Test } from 'tap'
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import * as esbuild from 'esbuild'
import { browserEntryFor, pageHostFor } from './support/browser.js'

const root = resolve(new URL('..', import.meta.url).pathname)
const modules = join(root, 'node_modules')
const env = { ...process.env }
delete env['NODE_V8_COVERAGE']
delete env['NODE_OPTIONS']
// tap's process tracker would otherwise measure the children against lib/'s line numbers
env['_TAPJS_PROCESSINFO_COVERAGE_'] = '0'
const sh = (cmd: string, args: Array<string>, cwd: string): Promise<string> =>
  new Promise((ok, fail) => {
    const child = execFile(cmd, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 }, (error, stdout, stderr) =>
      error === null ? ok(stdout) : fail(new Error(`${[cmd, ...args].join(' ')} failed in ${cwd}:\n${stdout}${stderr}`))
    )
    child.stdin?.end()
  })
const tsc = (app: string, project = 'tsconfig.json'): Promise<string> =>
  sh(process.execPath, [join(modules, 'typescript/bin/tsc'), '-p', project], app)
const node = (app: string, ...args: Array<string>): Promise<string> => sh(process.execPath, args, app)

interface Manifest {
  readonly dependencies?: Record<string, string>
  readonly peerDependencies?: Record<string, string>
  readonly optionalDependencies?: Record<string, string>
  readonly exports?: Record<string, Record<string, unknown>>
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
 * `versions` installs a package from another folder of node_modules (an aliased install,
 * such as `fp-ts-oldest` for `fp-ts`).
 */
const linkFromLockedInstall = (
  app: string,
  packages: ReadonlyArray<string>,
  from: string,
  versions: Record<string, string> = {}
): void => {
  const seen = new Set<string>()
  const visit = (name: string, parent: string): void => {
    const chosen = versions[name]
    const dir = chosen === undefined ? locate(name, parent) : join(modules, chosen)
    if (dir === undefined || seen.has(dir)) return
    seen.add(dir)
    // a package nested under another is reached through its parent's link
    if (chosen !== undefined || dir === join(modules, name)) {
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
  let packed: Promise<{ tarball: string; files: Array<string> }> | undefined
  return () =>
    (packed ??= (async () => {
      const out = mkdtempSync(join(tmpdir(), 'charmory-pack-'))
      const [listing] = JSON.parse(await sh('npm', ['pack', '--json', '--pack-destination', out], root)) as Array<{
        filename: string
        files: Array<{ path: string }>
      }>
      if (listing === undefined) throw new Error('npm pack listed nothing')
      return { tarball: join(out, readdirSync(out)[0] ?? ''), files: listing.files.map((f) => f.path) }
    })())
})()

const apps: Array<string> = []
t.teardown(() => {
  for (const app of apps) rmSync(app, { recursive: true, force: true })
})

/**
 * A fresh project with the packed charmory-track, its dependencies and peer dependencies,
 * plus `extra` packages; `versions` picks other installs of some of them.
 */
const freshProject = async (packageJson: object, extra: ReadonlyArray<string>, versions: Record<string, string> = {}): Promise<string> => {
  const app = mkdtempSync(join(tmpdir(), 'charmory-app-'))
  apps.push(app)
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true, ...packageJson }))
  const installed = join(app, 'node_modules', 'charmory-track')
  mkdirSync(installed, { recursive: true })
  await sh('tar', ['-xzf', (await pack()).tarball, '-C', installed, '--strip-components=1'], app)
  const deps = Object.keys({ ...manifest(installed).dependencies, ...manifest(installed).peerDependencies })
  linkFromLockedInstall(app, deps, modules, versions)
  linkFromLockedInstall(app, extra, modules, versions)
  return app
}

const writeJson = (path: string, value: object): void => writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`)

/** The same small program in every project: a wrapped call, a param, an evaluation on the memory sink. */
const program = [
  "const load = (o: { name: string }) => o.name",
  'const program = pipe(',
  "  fromRecorded(withParams(load)({ name: 'm' })),",
  "  Track.flatMap(() => trackParam('batch', 4)),",
  "  Track.flatMap(() => evaluate({ experiment: 'packed' }, async (r) => { await r.logMetric('x', 1); return { acc: 1 } }))",
  ')',
  'const sink = memorySink()'
]
const imports = [
  "import { pipe } from 'fp-ts/lib/function.js'",
  "import { evaluate, fromRecorded, memorySink, run, Track, trackParam, withParams } from 'charmory-track'"
]
/** What the program prints: the run's id and params. */
const report = [
  "  const id: string = result._tag === 'Right' ? result.right.runId : 'failed'",
  '  console.log(JSON.stringify({ id, params: sink.snapshot().runs[0]?.params }))'
]
const checkPrinted = (t: Test, text: string): void => {
  const printed = JSON.parse(text) as { id: string; params: Record<string, string> }
  t.match(printed.id, /^[0-9a-f]{32}$/, 'the run has an id')
  t.match(printed.params, { 'load.name': 'm', batch: '4' }, 'and its params')
}

const strictOptions = {
  target: 'ES2022',
  strict: true,
  skipLibCheck: false,
  noEmitOnError: true,
  outDir: 'out'
}

t.jobs = 5

t.test('the tarball holds both builds, the command and the docs, and no specs', async (t) => {
  const { files } = await pack()
  for (const f of [
    'dist/index.js',
    'dist/index.d.ts',
    'dist/mlflow/MlflowSink.js',
    'dist/cjs/index.js',
    'dist/cjs/index.d.ts',
    'dist/cjs/package.json',
    'dist/cli/main.js',
    'package.json',
    'README.md',
    'CHANGELOG.md',
    'LICENSE'
  ]) {
    t.ok(files.includes(f), `the tarball holds ${f}`)
  }
  t.notOk(files.some((f) => f.startsWith('dist/cjs/cli/')), 'the command is ES modules only')
  t.notOk(files.some((f) => f.startsWith('spec/') || f.startsWith('.venv/')), 'no specs or virtualenv')
})

t.test('a fresh ES module project imports it; its types check with nodenext and node16', async (t) => {
  // a Node project of TypeScript has @types/node, as this one does
  const app = await freshProject({ type: 'module' }, ['@types/node'])
  writeFileSync(
    join(app, 'main.ts'),
    [...imports, ...program, 'const result = await run(program, { sink })', '{', ...report, '}', ''].join('\n')
  )
  for (const mode of ['NodeNext', 'Node16']) {
    writeJson(join(app, `tsconfig.${mode}.json`), {
      compilerOptions: { ...strictOptions, module: mode, moduleResolution: mode, types: ['node'] },
      files: ['main.ts']
    })
    await tsc(app, `tsconfig.${mode}.json`)
    t.pass(`types check with module ${mode}`)
  }
  checkPrinted(t, await node(app, 'out/main.js'))
})

t.test('a fresh CommonJS project requires it, and TypeScript compiled to CommonJS type-checks and runs', async (t) => {
  const app = await freshProject({}, ['@types/node'])
  // plain JavaScript
  writeFileSync(
    join(app, 'plain.cjs'),
    [
      "const { pipe } = require('fp-ts/lib/function.js')",
      "const { evaluate, memorySink, run, Track, trackParam } = require('charmory-track')",
      'const sink = memorySink()',
      "run(pipe(trackParam('batch', 4), Track.flatMap(() => evaluate({ experiment: 'cjs' }, () => ({ acc: 1 })))), { sink })",
      '  .then((r) => console.log(JSON.stringify({ tag: r._tag, params: sink.snapshot().runs[0].params })))',
      ''
    ].join('\n')
  )
  t.match(JSON.parse(await node(app, 'plain.cjs')), { tag: 'Right', params: { batch: '4' } }, 'require() runs a program')

  // the same names, whichever way it is loaded
  const names = async (how: string): Promise<Array<string>> =>
    JSON.parse(
      await node(
        app,
        '--input-type=module',
        '-e',
        `import { createRequire } from 'node:module'
         const m = ${how}
         console.log(JSON.stringify(Object.keys(m).filter((k) => k !== 'default' && k !== '__esModule').sort()))`
      )
    ) as Array<string>
  const required = await names("createRequire(process.cwd() + '/')('charmory-track')")
  t.strictSame(required, await names("await import('charmory-track')"), 'require and import give the same names')
  t.ok(required.length > 20, 'and there are many')

  // TypeScript, compiled to CommonJS (package.json has no "type"), reads the CommonJS types
  writeFileSync(
    join(app, 'main.ts'),
    [...imports, ...program, 'const main = async (): Promise<void> => {', '  const result = await run(program, { sink })', ...report, '}', 'void main()', ''].join('\n')
  )
  for (const mode of ['NodeNext', 'Node16']) {
    writeJson(join(app, `tsconfig.${mode}.json`), {
      compilerOptions: { ...strictOptions, module: mode, moduleResolution: mode, types: ['node'] },
      files: ['main.ts']
    })
    await tsc(app, `tsconfig.${mode}.json`)
    t.pass(`types check with module ${mode}`)
  }
  t.match(readFileSync(join(app, 'out/main.js'), 'utf8'), /require\("charmory-track"\)/, 'compiled to require()')
  checkPrinted(t, await node(app, 'out/main.js'))
})

t.test('a bundler-resolution project without @types/node type-checks, and bundles for a browser', async (t) => {
  const app = await freshProject({ type: 'module' }, [])
  writeFileSync(
    join(app, 'main.ts'),
    [
      ...imports,
      ...program,
      'const outcome = run(program, { sink }).then((result) => {',
      "  const id: string = result._tag === 'Right' ? result.right.runId : 'failed'",
      '  return JSON.stringify({ id, params: sink.snapshot().runs[0]?.params })',
      '})',
      '// the page hands its outcome to whoever opened it',
      ';(window as unknown as { __result: Promise<string> }).__result = outcome',
      ''
    ].join('\n')
  )
  const bundler = { ...strictOptions, module: 'ESNext', moduleResolution: 'Bundler', lib: ['ES2022', 'DOM'], types: [], noEmit: true }
  writeJson(join(app, 'tsconfig.json'), { compilerOptions: bundler, files: ['main.ts'] })
  await tsc(app)
  t.pass('the default types check without @types/node')
  if (!browserEntryFor(t)) return
  // what a browser app's tsconfig says to see the browser entry's types
  writeJson(join(app, 'tsconfig.browser.json'), { compilerOptions: { ...bundler, customConditions: ['browser'] }, files: ['main.ts'] })
  await tsc(app, 'tsconfig.browser.json')
  t.pass('the browser entry\'s types check without @types/node')

  const built = await esbuild.build({
    entryPoints: [join(app, 'main.ts')],
    absWorkingDir: app,
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    metafile: true,
    logLevel: 'silent'
  })
  const inputs = Object.keys(built.metafile.inputs)
  t.ok(inputs.some((i) => i.includes('charmory-track/dist/index.browser.js')), 'the bundle holds the browser entry')
  t.strictSame(inputs.filter((i) => i.startsWith('node:') || i.includes('(disabled)')), [], 'and no Node built-in')
  const host = await pageHostFor(t)
  if (host === undefined) return
  const text = (await host.run({ js: built.outputFiles[0]?.text ?? '', metafile: built.metafile })) as string
  checkPrinted(t, text)
})

t.test('the oldest fp-ts and io-ts in the peer ranges type-check and run', async (t) => {
  const peers = manifest(root).peerDependencies ?? {}
  t.strictSame(peers, { 'fp-ts': '^2.16.0', 'io-ts': '^2.2.20' }, 'the ranges this spec tests')
  const oldest = { 'fp-ts': 'fp-ts-oldest', 'io-ts': 'io-ts-oldest' }
  t.strictSame(
    [manifest(join(modules, 'fp-ts-oldest')), manifest(join(modules, 'io-ts-oldest'))].map(
      (m) => (m as { version?: string }).version
    ),
    ['2.16.0', '2.2.20'],
    'the oldest versions are installed beside the newest'
  )
  const app = await freshProject({ type: 'module' }, ['@types/node'], oldest)
  writeFileSync(
    join(app, 'main.ts'),
    [...imports, ...program, 'const result = await run(program, { sink })', '{', ...report, '}', ''].join('\n')
  )
  writeJson(join(app, 'tsconfig.json'), {
    compilerOptions: { ...strictOptions, module: 'NodeNext', moduleResolution: 'NodeNext', types: ['node'] },
    files: ['main.ts']
  })
  await tsc(app)
  checkPrinted(t, await node(app, 'out/main.js'))
  const version = await node(app, '--input-type=module', '-e', "import { createRequire } from 'node:module'; console.log(createRequire(process.cwd() + '/')('fp-ts/package.json').version)")
  t.equal(version.trim(), '2.16.0', 'on fp-ts 2.16.0')
})
