// The import boundary: only the Node platform and the Node-only families (the local store,
// the command, the Node samplers) touch Node. Every other module of lib/ imports no `node:*`
// module, reads no Node global (`process`, `Buffer`, `require`, `__dirname`), and imports a
// Node-only module for its types at most; the browser entry reaches no Node-only module.
import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import ts from 'typescript'

const root = resolve('lib')

const walk = (dir: string): Array<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []
  )

const files = walk(root).map((f) => relative(root, f).split('\\').join('/')).sort()

/** The modules allowed to touch Node. */
const nodeOnly = (file: string): boolean =>
  file === 'platform/node.ts' || file === 'index.ts' || /^(local|cli)\//.test(file) || /^system\/node[A-Z]\w*\.ts$/.test(file)

const NODE_GLOBALS = new Set(['process', 'Buffer', 'require', '__dirname', '__filename'])

interface Facts {
  /** Modules imported for their values (relative ones resolved to lib/ paths). */
  readonly imports: ReadonlyArray<string>
  /** What the file imports for its types only. */
  readonly typeImports: ReadonlyArray<string>
  /** Node globals read, with their line. */
  readonly globals: ReadonlyArray<string>
}

const resolveSpecifier = (file: string, spec: string): string =>
  spec.startsWith('.') ? relative(root, resolve(root, dirname(file), spec)).split('\\').join('/').replace(/\.js$/, '.ts') : spec

/** What a module of lib/ imports, and the Node globals it reads. */
export const factsOf = (file: string, text: string = readFileSync(join(root, file), 'utf8')): Facts => {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true)
  const imports: Array<string> = []
  const typeImports: Array<string> = []
  const globals: Array<string> = []
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier !== undefined && ts.isStringLiteral(node.moduleSpecifier)) {
      const target = resolveSpecifier(file, node.moduleSpecifier.text)
      const typeOnly = ts.isImportDeclaration(node)
        ? node.importClause?.isTypeOnly === true ||
          (node.importClause !== undefined &&
            node.importClause.name === undefined &&
            node.importClause.namedBindings !== undefined &&
            ts.isNamedImports(node.importClause.namedBindings) &&
            node.importClause.namedBindings.elements.length > 0 &&
            node.importClause.namedBindings.elements.every((e) => e.isTypeOnly))
        : node.isTypeOnly
      ;(typeOnly ? typeImports : imports).push(target)
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [arg] = node.arguments
      imports.push(arg !== undefined && ts.isStringLiteral(arg) ? resolveSpecifier(file, arg.text) : '<dynamic>')
    } else if (ts.isIdentifier(node) && NODE_GLOBALS.has(node.text)) {
      const parent = node.parent
      const isMemberName = (ts.isPropertyAccessExpression(parent) && parent.name === node) || (ts.isPropertyAssignment(parent) && parent.name === node)
      const isDeclared = ts.isImportSpecifier(parent) || ts.isVariableDeclaration(parent) || ts.isParameter(parent)
      if (!isMemberName && !isDeclared) globals.push(`${node.text} (line ${source.getLineAndCharacterOfPosition(node.getStart()).line + 1})`)
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return { imports, typeImports, globals }
}

const facts = new Map(files.map((f) => [f, factsOf(f)]))

t.test('the rule itself: what counts as touching Node', async (t) => {
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
  t.ok(seen.has('platform/browser.ts') && seen.has('sinks/mlflow.ts') && seen.has('sinks/memory.ts'), 'it reaches the browser platform and the sinks')
})
