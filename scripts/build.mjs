// Builds what the package publishes, from a clean dist/:
//   dist/        ES modules and their .d.ts, for `import` (and the command, `bin`)
//   dist/cjs/    CommonJS and its .d.ts, for `require`, marked {"type":"commonjs"} so that
//                Node and TypeScript read those files as CommonJS
import { execFileSync } from 'node:child_process'
import { rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
const build = (project) => execFileSync(process.execPath, [tsc, '-p', project], { cwd: root, stdio: 'inherit' })

rmSync(join(root, 'dist'), { recursive: true, force: true })
build('tsconfig.build.json')
build('tsconfig.cjs.json')
writeFileSync(join(root, 'dist/cjs/package.json'), `${JSON.stringify({ type: 'commonjs' })}\n`)
