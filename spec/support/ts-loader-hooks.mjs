// The module hooks of spec/support/ts-loader.mjs: a `.js` import of the project's own files
// that only exists as `.ts` resolves to the `.ts` file (TypeScript's NodeNext rule), after
// every other hook had its try, as ts-node did (tap's mocks see the specifier as written),
// and a `.ts` file is loaded as an ES module with its types stripped by esbuild and an inline
// source map for coverage.
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { transform } from 'esbuild'

const typescript = (url) => url.protocol === 'file:' && url.pathname.endsWith('.ts')

/** The `.ts` source a relative or file: specifier ending in `.js` means, when only that exists. */
const sourceOf = (specifier, parentURL) => {
  if (parentURL === undefined || !/^(\.\.?\/|file:)/.test(specifier)) return undefined
  const url = new URL(specifier, parentURL)
  if (url.protocol !== 'file:' || !url.pathname.endsWith('.js') || url.pathname.includes('/node_modules/')) return undefined
  const source = new URL(url)
  source.pathname = `${url.pathname.slice(0, -3)}.ts`
  return !existsSync(url) && existsSync(source) ? source.href : undefined
}

export const resolve = async (specifier, context, next) => {
  try {
    return await next(specifier, context)
  } catch (e) {
    const source = e?.code === 'ERR_MODULE_NOT_FOUND' ? sourceOf(specifier, context.parentURL) : undefined
    if (source === undefined) throw e
    return { url: source, format: 'module', shortCircuit: true }
  }
}

// the compiler options of tsconfig.json that change emitted JavaScript
const tsconfigRaw = { compilerOptions: { target: 'ES2022', useDefineForClassFields: true, verbatimModuleSyntax: false } }

export const load = async (url, context, next) => {
  const parsed = new URL(url)
  if (!typescript(parsed)) return next(url, context)
  const path = fileURLToPath(parsed)
  const { code } = await transform(await readFile(path, 'utf8'), {
    loader: 'ts',
    format: 'esm',
    target: 'es2022',
    sourcemap: 'inline',
    sourcefile: path,
    tsconfigRaw
  })
  return { format: 'module', source: code, shortCircuit: true }
}
