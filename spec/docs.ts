// Docs that cannot rot: every `@example` in lib/ and every TypeScript sample of README.md is
// type-checked and run (as docs-ts does, with `assert` in scope), and every module and every
// export of the public modules carries a doc comment with a description, `@since` and
// `@category`, each tag on a line of its own.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative, resolve } from 'node:path'
import ts from 'typescript'
import { serverFor } from './support/mlflow-server.js'

const root = resolve(new URL('..', import.meta.url).pathname)
const walk = (dir: string): Array<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []
  )
const sources = walk(join(root, 'lib')).sort()
// the command's modules are not a library API: they are documented by `charmory-track --help`
const documented = sources.filter((f) => !f.startsWith(join(root, 'lib', 'cli') + '/'))

// -------------------------------------------------------------------------------------
// examples
// -------------------------------------------------------------------------------------

interface Example {
  readonly where: string
  readonly code: string
}

/** The `@example` blocks of a file's doc comments: from the tag to the next tag or the comment's end. */
const examplesOf = (file: string): Array<Example> => {
  const text = readFileSync(file, 'utf8')
  const out: Array<Example> = []
  for (const comment of text.matchAll(/\/\*\*([\s\S]*?)\*\//g)) {
    const lines = (comment[1] ?? '').split('\n').map((l) => l.replace(/^\s*\* ?/, ''))
    lines.forEach((l, start) => {
      if (!l.startsWith('@example')) return
      const end = lines.findIndex((m, i) => i > start && m.startsWith('@'))
      const line = text.slice(0, comment.index).split('\n').length + start
      out.push({
        where: `${relative(root, file)}:${line}`,
        code: lines.slice(start + 1, end === -1 ? undefined : end).join('\n')
      })
    })
  }
  return out
}

/** An example that reads the tracking server's address from the environment talks to a server. */
const needsServer = (e: Example): boolean => /process\.env\[['"]MLFLOW_TRACKING_URI['"]\]/.test(e.code)

/** The TypeScript samples of README.md: its tour is an example too. */
const readmeSamples = (): Array<Example> => {
  const text = readFileSync(join(root, 'README.md'), 'utf8')
  return [...text.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => ({
    where: `README.md:${text.slice(0, m.index).split('\n').length + 1}`,
    code: m[1] ?? ''
  }))
}

const examples = [...sources.flatMap(examplesOf), ...readmeSamples()]

t.test('every @example, and every sample of README, type-checks and runs', async (t) => {
  t.ok(examples.length >= 26, `found ${examples.length} examples`)
  // inside the project (not under node_modules, not in /tmp), so that `charmory-track`
  // resolves to this package by self-reference, with the `charmory-track-source` condition
  const dir = join(root, '.tap', `doc-examples-${process.pid}`)
  mkdirSync(dir, { recursive: true })
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  // the lines each file has before the example's first line (the `@example` line in lib/)
  const headers: Array<number> = []
  const files = examples.map((e, i) => {
    const file = join(dir, `example-${i}.ts`)
    const imported = /^import\s+(\*\s+as\s+)?assert\b/m.test(e.code)
    const header = !imported && /\bassert\b/.test(e.code) ? "import assert from 'node:assert'\n" : ''
    headers.push(header === '' ? 1 : 2)
    writeFileSync(file, `// ${e.where}\n${header}${e.code}\nexport {}\n`)
    return file
  })
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      extends: join(root, 'tsconfig.json'),
      compilerOptions: { noUnusedLocals: false, noUnusedParameters: false },
      include: ['*.ts']
    })
  )
  const tsc = join(root, 'node_modules/typescript/bin/tsc')
  // unmeasured: tap's process tracker would run the compiler under V8's precise coverage
  const env: NodeJS.ProcessEnv = { ...process.env, _TAPJS_PROCESSINFO_COVERAGE_: '0' }
  delete env['NODE_V8_COVERAGE']
  try {
    execFileSync(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json'), '--noEmit'], { encoding: 'utf8', stdio: 'pipe', env })
    t.pass('all examples type-check')
  } catch (e) {
    const out = (e as { stdout?: string }).stdout ?? String(e)
    // name each example by its place in lib/ rather than by its temporary file
    const located = out.replace(/\S*example-(\d+)\.ts\((\d+),(\d+)\)/g, (m, i: string, line: string, column: string) => {
      const example = examples[Number(i)]
      const file = example?.where.replace(/:\d+$/, '')
      const start = Number(example?.where.replace(/^.*:/, '') ?? 0)
      return example === undefined ? m : `${file}:${start + Number(line) - (headers[Number(i)] ?? 1)}:${column}`
    })
    t.fail(`examples do not type-check:\n${located}`)
  }

  // examples never write into the real home: the local store defaults to $ARMORY_HOME/mlruns
  const saved = {
    ARMORY_HOME: process.env['ARMORY_HOME'],
    MLFLOW_TRACKING_URI: process.env['MLFLOW_TRACKING_URI'],
    TMPDIR: process.env['TMPDIR']
  }
  const home = mkdtempSync(join(tmpdir(), 'charmory-doc-examples-'))
  t.teardown(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
    rmSync(home, { recursive: true, force: true })
  })
  process.env['ARMORY_HOME'] = home
  delete process.env['MLFLOW_TRACKING_URI']
  const server = examples.some(needsServer) ? await serverFor(t) : undefined
  if (server !== undefined) process.env['MLFLOW_TRACKING_URI'] = server.url
  // and the folders they make with `mkdtempSync(join(tmpdir(), ...))` go with it
  process.env['TMPDIR'] = home

  for (const [i, file] of files.entries()) {
    const example = examples[i]
    if (example === undefined) continue
    if (needsServer(example) && server === undefined) {
      t.comment(`SKIPPING ${example.where}: it needs an MLflow server`)
      continue
    }
    try {
      const start = Date.now()
      await import(file)
      t.pass(`${example.where} runs`, { time: Date.now() - start })
    } catch (error) {
      t.fail(`${example.where} fails: ${error instanceof Error ? error.message : String(error)}`, { error })
    }
  }
})

// -------------------------------------------------------------------------------------
// doc comments
// -------------------------------------------------------------------------------------

const tagOnItsOwnLine = (text: string, tag: string): boolean =>
  new RegExp(`^\\s*\\*?\\s*@${tag} [^@\\n]*[^@\\s]\\s*$`, 'm').test(text)

/** What is missing from a doc comment's text: a description, and each tag on a line of its own. */
const problemsOf = (text: string | undefined, tags: ReadonlyArray<string>): Array<string> => {
  if (text === undefined) return ['no doc comment']
  const body = text.replace(/^\/\*\*/, '').replace(/\*\/$/, '')
  const description = body.split(/^\s*\*?\s*@/m)[0]?.replace(/^\s*\*/gm, '').trim() ?? ''
  const problems: Array<string> = []
  if (description === '') problems.push('no description')
  for (const tag of tags) {
    if (!tagOnItsOwnLine(body, tag)) problems.push(`no @${tag} on a line of its own`)
  }
  return problems
}

/** The module header and the exports of a module that lack a part of their doc comment. */
const undocumented = (file: string): Array<string> => {
  const text = readFileSync(file, 'utf8')
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true)
  const problems: Array<string> = []
  const report = (name: string, found: ReadonlyArray<string>): void => {
    if (found.length > 0) problems.push(`${relative(root, file)}: ${name}: ${found.join(', ')}`)
  }
  // the module header: the file's first comment, with a description and `@since`; it is
  // never the doc of the statement that follows it
  const first = ts.getLeadingCommentRanges(text, 0)?.[0]
  const header = first !== undefined && text.startsWith('/**', first.pos) ? first : undefined
  report(
    'module header',
    header === undefined ? ['no module doc comment at the top'] : problemsOf(text.slice(header.pos, header.end), ['since'])
  )
  /** The doc comment right before a node (the last of its leading ones, as docs-ts reads it). */
  const docOf = (node: ts.Node): string | undefined =>
    ts
      .getJSDocCommentsAndTags(node)
      .filter(ts.isJSDoc)
      .filter((d) => d.getStart() !== header?.pos)
      .at(-1)
      ?.getText()

  const exported = (node: ts.Node): boolean =>
    ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword)
  const seen = new Set<string>()
  for (const statement of source.statements) {
    if (ts.isExportDeclaration(statement)) {
      // `export * as X from './X.js'`: a namespace of the public surface
      const clause = statement.exportClause
      if (clause !== undefined && ts.isNamespaceExport(clause)) {
        report(clause.name.getText(), problemsOf(docOf(statement), ['since', 'category']))
      }
      continue
    }
    if (!exported(statement)) continue
    if (ts.isVariableStatement(statement)) {
      for (const d of statement.declarationList.declarations) {
        report(d.name.getText(), problemsOf(docOf(statement), ['since', 'category']))
      }
    } else if (
      ts.isFunctionDeclaration(statement) ||
      ts.isClassDeclaration(statement) ||
      ts.isInterfaceDeclaration(statement) ||
      ts.isTypeAliasDeclaration(statement) ||
      ts.isEnumDeclaration(statement)
    ) {
      const type = ts.isInterfaceDeclaration(statement) || ts.isTypeAliasDeclaration(statement)
      // a type may share its name with a value (a codec and its type): both are documented
      const name = `${type ? 'type ' : ''}${statement.name?.getText() ?? 'default'}`
      // of an overloaded function, the first signature carries the doc
      if (seen.has(name)) continue
      seen.add(name)
      report(name, problemsOf(docOf(statement), ['since', 'category']))
    }
  }
  return problems
}

t.test('every module and every export has a doc comment with a description, @since and @category', async (t) => {
  t.ok(documented.length >= 25, `checked ${documented.length} modules`)
  const problems = documented.flatMap(undocumented)
  t.strictSame(problems, [], `${problems.length} doc comments lack a part`)
})

/** The fixed list of categories, as fp-ts keeps a short one, so that the reference groups alike in every module. */
const CATEGORIES = new Set([
  'model',
  'constructors',
  'combinators',
  'destructors',
  'refinements',
  'instances',
  'codecs',
  'constants',
  'utils',
  'interpreters',
  'type lambdas',
  'do notation',
  'namespaces'
])

t.test(`every @category is one of a fixed list: ${[...CATEGORIES].join(', ')}`, async (t) => {
  const used = sources.flatMap((file) =>
    [...readFileSync(file, 'utf8').matchAll(/@category ([^\n*]+)/g)].map((m) => [relative(root, file), (m[1] ?? '').trim()] as const)
  )
  t.ok(used.length > 100, `${used.length} categories read`)
  t.strictSame(used.filter(([, c]) => !CATEGORIES.has(c)), [])
})

t.test('the doc comment checker', async (t) => {
  const check = (text: string): Array<string> => {
    const dir = mkdtempSync(join(tmpdir(), 'charmory-doc-check-'))
    t.teardown(() => rmSync(dir, { recursive: true, force: true }))
    const file = join(dir, 'M.ts')
    writeFileSync(file, text)
    return undocumented(file).map((p) => p.replace(/^.*M\.ts: /, ''))
  }
  const header = '/**\n * A module.\n *\n * @since 0.1.0\n */\n'
  t.strictSame(check(`${header}/**\n * A value.\n * @category utils\n * @since 0.1.0\n */\nexport const a = 1\n`), [])
  t.strictSame(
    check(`${header}/** A value. @category utils @since 0.1.0 */\nexport const a = 1\n`),
    ['a: no @since on a line of its own, no @category on a line of its own'],
    'tags on the description line are not tags for docs-ts'
  )
  t.strictSame(check(`${header}/**\n * @category utils\n * @since 0.1.0\n */\nexport const a = 1\n`), ['a: no description'])
  t.strictSame(check(`${header}export * as X from './X.js'\n`), ['X: no doc comment'], 'namespaces are exports')
  t.strictSame(
    check(`/**\n * A module.\n *\n * @since 0.1.0\n */\nexport const a = 1\n`),
    ['a: no doc comment'],
    'the module header does not document the first export'
  )
  t.strictSame(check(`import 'x'\n`), ['module header: no module doc comment at the top'])
  t.strictSame(
    check(
      `${header}/**\n * F.\n * @category utils\n * @since 0.1.0\n */\nexport function f(a: string): string\nexport function f(a: number): number\nexport function f(a: unknown) { return a }\n`
    ),
    [],
    'an overloaded function is documented once, on its first signature'
  )
})
