// `npm run bench -- --profile`: CPU profiles (`node --cpu-prof`) of the ingest path (points
// streamed into the real server) and of wrapped calls, against a tsc build of lib/ so that
// function names and lines survive, each summarised as its top frames by self time.
import { execFileSync } from 'node:child_process'
import { mkdirSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { streamChild, type Context } from './sections.js'
import { childEnv, nodeTs, root, runJson } from './support/child.js'
import { categoryOf, selfTimes } from './support/cpuprofile.js'
import { num, table } from './support/stats.js'

const build = join(root, '.bench', 'build')

const buildLibrary = (): void => {
  rmSync(build, { recursive: true, force: true })
  execFileSync(
    process.execPath,
    [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', build, '--declaration', 'false', '--declarationMap', 'false', '--sourceMap', 'false'],
    { cwd: root, stdio: 'inherit' }
  )
}

const summary = (dir: string, top: number): string => {
  const file = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(dir, f))
    // CPU.<date>.<pid>.<thread>.<n>.cpuprofile: thread 0, first by name, is the main thread
    // (tsx's loader thread writes another)
    .sort()
    .at(0)
  if (file === undefined) return '(no profile written)'
  const { totalMs, frames } = selfTimes(file)
  const busy = frames.filter((f) => f.name !== '(idle)' && f.name !== '(program)')
  const busyMs = busy.reduce((a, f) => a + f.ms, 0)
  const byCategory = new Map<string, number>()
  for (const f of busy) byCategory.set(categoryOf(f.name), (byCategory.get(categoryOf(f.name)) ?? 0) + f.ms)
  return [
    `${file}: ${num(totalMs)} ms sampled, ${num(busyMs)} ms busy (not idle)`,
    table(
      ['where (self time)', 'ms', '% of busy'],
      [...byCategory].sort((a, b) => b[1] - a[1]).map(([c, ms]) => [c, num(ms), ((100 * ms) / busyMs).toFixed(1)])
    ),
    '',
    table(
      ['frame (self time)', 'ms', '% of busy'],
      busy.slice(0, top).map((f) => [f.name, num(f.ms), ((100 * f.ms) / busyMs).toFixed(1)])
    )
  ].join('\n')
}

export const profileSection = async (ctx: Context): Promise<string> => {
  ctx.log('\n## CPU profiles (tsc build of lib/ in .bench/build)\n')
  buildLibrary()
  const env = childEnv({ BENCH_LIB: join(build, 'index.js') })
  const stamp = new Date().toISOString().replace(/[:.]/g, '-')
  const ingestDir = join(root, '.bench', `profile-${stamp}-ingest`)
  const callsDir = join(root, '.bench', `profile-${stamp}-calls`)
  mkdirSync(ingestDir, { recursive: true })
  mkdirSync(callsDir, { recursive: true })
  const points = ctx.settings.points
  const a = await streamChild(ctx, points, ['--cpu-prof', '--cpu-prof-dir', ingestDir], env)
  const ingest = `### Ingest: ${num(points)} points through logMetric into the real server (${num(points / a.seconds)} points/s, ` +
    `client CPU ${num(a.cpuMicros / points)} µs/point)\n\n${summary(ingestDir, 25)}`
  ctx.log(`${ingest}\n`)
  const [cmd, args] = nodeTs('bench/children/calls.ts', [String(ctx.settings.calls)], ['--cpu-prof', '--cpu-prof-dir', callsDir])
  const c = await runJson<{ nsPerCall: number }>(cmd, args, { timeoutMs: 10 * 60_000, env })
  const calls = `### Wrapped calls: ${num(ctx.settings.calls)} × withParams(loadModel)(5-key options), ${num(c.nsPerCall)} ns per call\n\n${summary(callsDir, 20)}`
  ctx.log(`${calls}\n`)
  return `${ingest}\n\n${calls}\n`
}
