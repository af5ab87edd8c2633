// The module hooks of spec/support/ts-loader.mjs: a `.js` import from a TypeScript file finds
// its `.ts` source (as TypeScript's NodeNext resolution does), and a `.ts` file is loaded as an
// ES module with its types stripped by esbuild, with an inline source map for coverage.
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { transform } from 'esbuild'

const typescript = (url) => url !== undefined && url.startsWith('file:') && url.endsWith('.ts')

export const resolve = (specifier, context, next) => {
  if (typescript(context.parentURL) && /^\.\.?\//.test(specifier) && specifier.endsWith('.js')) {
    const source = new URL(`${specifier.slice(0, -3)}.ts`, context.parentURL)
    if (existsSync(source)) return { url: source.href, format: 'module', shortCircuit: true }
  }
  return next(specifier, context)
}

// the compiler options of tsconfig.json that change emitted JavaScript
const tsconfigRaw = { compilerOptions: { target: 'ES2022', useDefineForClassFields: true, verbatimModuleSyntax: false } }

export const load = async (url, context, next) => {
  if (!typescript(url)) return next(url, context)
  const path = fileURLToPath(url)
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
