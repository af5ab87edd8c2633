// Builds what the package publishes, from a clean dist/:
//   dist/        ES modules and their .d.ts, for `import` (and the command, `bin`)
//   dist/cjs/    CommonJS and its .d.ts, for `require`, marked {"type":"commonjs"} so that
//                Node and TypeScript read those files as CommonJS
import { spawn } from 'node:child_process'
import { rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
// the two builds write to separate folders: they run side by side
const build = (project) =>
  new Promise((ok, fail) =>
    spawn(process.execPath, [tsc, '-p', project], { cwd: root, stdio: 'inherit' }).once('close', (code) =>
      code === 0 ? ok() : fail(new Error(`tsc -p ${project} failed`))
    )
  )

rmSync(join(root, 'dist'), { recursive: true, force: true })
const builds = await Promise.allSettled([build('tsconfig.build.json'), build('tsconfig.cjs.json')])
const failed = builds.filter((b) => b.status === 'rejected')
if (failed.length > 0) {
  for (const f of failed) console.error(f.reason.message)
  process.exit(1)
}
writeFileSync(join(root, 'dist/cjs/package.json'), `${JSON.stringify({ type: 'commonjs' })}\n`)
