// The browser bundle's size: the memory-sink and MLflow-sink programs of the browser specs
// (spec/support/pages/memory.ts, mlflow.ts) bundled as a user's bundler would for a browser
// (esbuild, the `browser` export condition, minified, ES2022), gzipped at level 9, and where
// the bytes of the minified MLflow-sink bundle go (esbuild's metafile: bytes of each input in
// the output, by package and by file). No server is needed.
import { gzipSync } from 'node:zlib'
import { browserEntryProblem, bundlePage } from '../spec/support/browser.js'
import { num, table } from './support/stats.js'

export interface BundleFigures {
  readonly program: string
  readonly minified?: number
  readonly gzip?: number
  /** Minified bytes by input file, largest first. */
  readonly inputs?: ReadonlyArray<readonly [string, number]>
  /** Why it could not be bundled. */
  readonly error?: string
}

export interface BundleResult {
  readonly programs: ReadonlyArray<BundleFigures>
}

export const PROGRAMS = {
  'memory sink': 'spec/support/pages/memory.ts',
  'MLflow sink': 'spec/support/pages/mlflow.ts'
} as const

/** The MLflow-sink program's goal, in gzipped bytes. */
export const GZIP_GOAL = 50_000

const measure = async (program: string, page: string): Promise<BundleFigures> => {
  try {
    const { js, metafile } = await bundlePage(page, { minify: true })
    const output = Object.values(metafile.outputs)[0]
    const inputs = Object.entries(output?.inputs ?? {})
      .map(([file, i]) => [file, i.bytesInOutput] as const)
      .sort((a, b) => b[1] - a[1])
    const bytes = Buffer.from(js)
    return { program, minified: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length, inputs }
  } catch (e) {
    const { errors } = e as { errors?: Array<{ text: string }> }
    const first = errors?.[0]?.text ?? String(e)
    return { program, error: `${first}${(errors?.length ?? 0) > 1 ? ` (and ${(errors?.length ?? 1) - 1} more errors)` : ''}` }
  }
}

/** The package an input belongs to: `fp-ts`, `@scope/name`, or `charmory-track` for lib/. */
const packageOf = (file: string): string => {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file)
  return m?.[1] ?? (file.startsWith('lib/') ? 'charmory-track' : file)
}

const kB = (bytes: number): string => `${num(bytes / 1000)} kB`

export const bundleSection = async (log: (line: string) => void): Promise<BundleResult> => {
  log('\n## Browser bundle\n')
  const problem = browserEntryProblem()
  const programs: Array<BundleFigures> = []
  for (const [program, page] of Object.entries(PROGRAMS)) {
    programs.push(problem === undefined ? await measure(program, page) : { program, error: problem })
  }
  log(bundleTable({ programs }))
  const mlflow = programs.find((p) => p.program === 'MLflow sink')
  if (mlflow?.inputs !== undefined && mlflow.minified !== undefined) {
    const total = mlflow.minified
    const byPackage = new Map<string, number>()
    for (const [file, bytes] of mlflow.inputs) byPackage.set(packageOf(file), (byPackage.get(packageOf(file)) ?? 0) + bytes)
    const share = (bytes: number): string => `${((100 * bytes) / total).toFixed(1)} %`
    log('\nWhere the minified bytes of the MLflow-sink program go, by package:\n')
    log(table(['package', 'minified', 'share'], [...byPackage].sort((a, b) => b[1] - a[1]).map(([p, b]) => [p, kB(b), share(b)])))
    log('\nand its 15 largest files:\n')
    log(table(['file', 'minified', 'share'], mlflow.inputs.slice(0, 15).map(([f, b]) => [f.replace(/^.*node_modules\//, ''), kB(b), share(b)])))
  }
  return { programs }
}

export const bundleTable = (r: BundleResult): string =>
  table(
    ['browser program', 'minified', 'min + gzip -9'],
    r.programs.map((p) =>
      p.error === undefined ? [p.program, kB(p.minified ?? 0), kB(p.gzip ?? 0)] : [p.program, `not bundled: ${p.error}`, '–']
    )
  )

export const bundleGoal = (r: BundleResult): readonly [goal: string, measured: string, met: boolean | undefined] => {
  const mlflow = r.programs.find((p) => p.program === 'MLflow sink')
  return [
    `MLflow-sink browser program < ${kB(GZIP_GOAL)} min + gzip`,
    mlflow?.gzip === undefined ? 'not measured' : kB(mlflow.gzip),
    mlflow?.gzip === undefined ? undefined : mlflow.gzip < GZIP_GOAL
  ]
}
