/**
 * The tracking core's sink-facing behaviour, written once and run against every sink
 * (memory in spec/conformance.ts, MLflow and local elsewhere), plus small helpers the specs
 * share (a logger that keeps what it was told, a fixed description of the program).
 */
import * as O from 'fp-ts/lib/Option.js'
import type { Logger, SourceInfo } from 'charmory-track'

// -------------------------------------------------------------------------------------
// helpers
// -------------------------------------------------------------------------------------

/** A logger that keeps every message, for tests that check warnings. */
export const captureLogger = (): { readonly logger: Logger; readonly warnings: Array<string>; readonly infos: Array<string> } => {
  const warnings: Array<string> = []
  const infos: Array<string> = []
  return {
    logger: { warn: (m) => void warnings.push(m), info: (m) => void infos.push(m) },
    warnings,
    infos
  }
}

/** What `env.source` says about the program, fixed so that tags can be compared exactly. */
export const fixedSource = (gitCommit: O.Option<string> = O.some('0123456789abcdef0123456789abcdef01234567')): SourceInfo => ({
  user: 'ada',
  sourceName: '/home/ada/eval/run.ts',
  gitCommit
})
