// What each module of lib/ imports and which ways out of the program it uses, read with the
// TypeScript parser: shared by the import-boundary spec (spec/boundary.ts) and the layering
// spec (spec/layers.ts).
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import ts from 'typescript'

export const root = resolve('lib')

const walk = (dir: string): Array<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []
  )

/** Every module of lib/, as a `/`-separated path relative to lib/, sorted. */
export const libFiles = (): ReadonlyArray<string> => walk(root).map((f) => relative(root, f).split('\\').join('/')).sort()

const NODE_GLOBALS = new Set(['process', 'Buffer', 'require', '__dirname', '__filename'])

/** Ways to the clock, timers and randomness that bypass the platform. */
const OUTSIDE_CALLS = new Set(['Date.now', 'Math.random', 'performance.now', 'setTimeout', 'setInterval', 'setImmediate', 'queueMicrotask'])
/** Globals that are a way out by themselves (when the module declares no name of its own so spelled). */
const OUTSIDE_GLOBALS = new Set(['crypto', 'fetch', 'localStorage', 'document', 'window', 'navigator'])
/** What node:crypto may give outside the platform: a content hash, which is no way out. */
const PURE_CRYPTO = new Set(['createHash'])

export interface Facts {
  /** Modules imported for their values (relative ones resolved to lib/ paths). */
  readonly imports: ReadonlyArray<string>
  /** What the file imports for its types only. */
  readonly typeImports: ReadonlyArray<string>
  /** Node globals read, with their line. */
  readonly globals: ReadonlyArray<string>
  /** The clock, timers, randomness or a browser global reached directly, with their line. */
  readonly outside: ReadonlyArray<string>
}

/** Every name the module declares (variables, parameters, functions, imports, destructured names). */
const declaredNames = (source: ts.SourceFile): ReadonlySet<string> => {
  const names = new Set<string>()
  const visit = (node: ts.Node): void => {
    if (
      (ts.isVariableDeclaration(node) || ts.isParameter(node) || ts.isFunctionDeclaration(node) || ts.isBindingElement(node) || ts.isImportSpecifier(node)) &&
      node.name !== undefined &&
      ts.isIdentifier(node.name)
    ) {
      names.add(node.name.text)
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return names
}

const resolveSpecifier = (file: string, spec: string): string =>
  spec.startsWith('.') ? relative(root, resolve(root, dirname(file), spec)).split('\\').join('/').replace(/\.js$/, '.ts') : spec

const isTypeOnly = (node: ts.ImportDeclaration | ts.ExportDeclaration): boolean => {
  if (ts.isExportDeclaration(node)) return node.isTypeOnly
  const clause = node.importClause
  if (clause === undefined) return false
  if (clause.isTypeOnly) return true
  const bindings = clause.namedBindings
  return (
    clause.name === undefined &&
    bindings !== undefined &&
    ts.isNamedImports(bindings) &&
    bindings.elements.length > 0 &&
    bindings.elements.every((e) => e.isTypeOnly)
  )
}

/** Whether an identifier is a name being declared or a member, not a read of a global. */
const isDeclarationOrMember = (node: ts.Identifier): boolean => {
  const parent = node.parent
  return (
    (ts.isPropertyAccessExpression(parent) && parent.name === node) ||
    (ts.isPropertyAssignment(parent) && parent.name === node) ||
    ts.isImportSpecifier(parent) ||
    ts.isVariableDeclaration(parent) ||
    ts.isParameter(parent) ||
    ts.isPropertySignature(parent) ||
    ts.isPropertyDeclaration(parent) ||
    ts.isMethodSignature(parent) ||
    ts.isBindingElement(parent) ||
    ts.isTypeReferenceNode(parent) ||
    ts.isQualifiedName(parent)
  )
}

/** What a module of lib/ imports, and the ways out it takes. */
export const factsOf = (file: string, text: string = readFileSync(join(root, file), 'utf8')): Facts => {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true)
  const imports: Array<string> = []
  const typeImports: Array<string> = []
  const globals: Array<string> = []
  const outside: Array<string> = []
  const line = (node: ts.Node): number => source.getLineAndCharacterOfPosition(node.getStart()).line + 1
  const declared = declaredNames(source)
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier !== undefined && ts.isStringLiteral(node.moduleSpecifier)) {
      ;(isTypeOnly(node) ? typeImports : imports).push(resolveSpecifier(file, node.moduleSpecifier.text))
      const bindings = ts.isImportDeclaration(node) ? node.importClause?.namedBindings : undefined
      if (node.moduleSpecifier.text === 'node:crypto' && ts.isImportDeclaration(node)) {
        const named = bindings !== undefined && ts.isNamedImports(bindings) ? bindings.elements.map((e) => (e.propertyName ?? e.name).text) : ['*']
        for (const n of named) if (!PURE_CRYPTO.has(n)) outside.push(`node:crypto ${n} (line ${line(node)})`)
      }
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      typeImports.push(resolveSpecifier(file, node.argument.literal.text))
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [arg] = node.arguments
      imports.push(arg !== undefined && ts.isStringLiteral(arg) ? resolveSpecifier(file, arg.text) : '<dynamic>')
    } else if (ts.isPropertyAccessExpression(node) && ts.isIdentifier(node.expression)) {
      const name = `${node.expression.text}.${node.name.text}`
      if (OUTSIDE_CALLS.has(name)) outside.push(`${name} (line ${line(node)})`)
      if (node.expression.text === 'globalThis' && (OUTSIDE_GLOBALS.has(node.name.text) || OUTSIDE_CALLS.has(node.name.text))) {
        outside.push(`${name} (line ${line(node)})`)
      }
    } else if (ts.isIdentifier(node) && !isDeclarationOrMember(node)) {
      if (NODE_GLOBALS.has(node.text)) globals.push(`${node.text} (line ${line(node)})`)
      if ((OUTSIDE_CALLS.has(node.text) || OUTSIDE_GLOBALS.has(node.text)) && !declared.has(node.text)) outside.push(`${node.text} (line ${line(node)})`)
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return { imports, typeImports, globals, outside }
}
