/**
 * The Node runtime: `nodePlatform` (Node's capabilities, the web ones and the Node sampler of the
 * machine), the local run store's wiring (its default folder, `file:` URIs, the journal and the
 * fallback of a server sink), and the package's `run`, `runPromise` and `openSink` on Node.
 *
 * @since 0.2.0
 */
import { pipe } from 'fp-ts/lib/function.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { homedir } from 'node:os'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { fallbackOver, journalOver } from '../local/Fallback.js'
import { localSink } from '../local/LocalSink.js'
import { defaultStoreDir } from '../local/Store.js'
import { nodeFiles, nodeSignals, nodeSource, nodeTimers, nodeTransport, stderrLogger } from '../platform/node.js'
import type { Platform } from '../platform/Platform.js'
import { mathRandom, randomId, systemClock } from '../platform/web.js'
import { buildSink, type LocalStoreSupport } from '../Sink.js'
import { nodeSampler } from '../system/nodeSampler.js'
import { runIn, type Services } from './Runtime.js'

// -------------------------------------------------------------------------------------
// instances
// -------------------------------------------------------------------------------------

/** The folder a `file:` URI or a plain path names, from `cwd`; a bad `file:` URI is undefined. */
const folderOf = (cwd: string) => (uri: string): string | undefined => {
  try {
    if (!uri.startsWith('file:')) return resolve(cwd, uri)
    return uri.startsWith('file://') ? fileURLToPath(uri) : resolve(cwd, decodeURIComponent(uri.slice('file:'.length)))
  } catch {
    return undefined
  }
}

/**
 * The local run store of a process with these variables, home and working folder.
 * @category instances
 * @since 0.2.0
 */
export const nodeLocalStore = (vars: Readonly<Record<string, string | undefined>>, home: string, cwd: string): LocalStoreSupport => ({
  defaultDir: defaultStoreDir(vars, home),
  folderOf: folderOf(cwd),
  sink: (dir) => localSink({ dir }),
  around: (remote, dir, mode, context) =>
    pipe(
      buildSink(localSink({ dir }), context),
      TE.map((local) => (mode === 'journal' ? journalOver : fallbackOver)(remote, local, { logger: context.logger, defaultDir: defaultStoreDir(vars, home) }))
    )
})

/**
 * Node's platform: what `run` uses for every capability it is not given.
 * @category instances
 * @since 0.2.0
 */
export const nodePlatform: Platform = {
  clock: systemClock,
  logger: stderrLogger,
  files: nodeFiles,
  vars: process.env,
  get home() {
    return homedir()
  },
  ids: randomId,
  random: mathRandom,
  timers: nodeTimers,
  transport: nodeTransport(nodeFiles),
  interrupts: nodeSignals,
  source: nodeSource,
  systemSampler: (logger) => nodeSampler({ logger })
}

/**
 * What the Node runtime adds to its platform for the sinks it builds: the local run store of the
 * variables and home folder a run is given, from this process's working folder.
 * @category instances
 * @since 0.3.0
 */
export const nodeServices: Services = { localStore: (p) => nodeLocalStore(p.vars, p.home ?? homedir(), process.cwd()) }

const node = runIn(nodePlatform, nodeServices)

// -------------------------------------------------------------------------------------
// interpreters
// -------------------------------------------------------------------------------------

/**
 * Runs a pipeline on Node, from an empty context unless one is given. A sink description
 * (`mlflowSink`, `localSink`, `sinkFromEnv`) is built from the platform and closed when the
 * pipeline ends; a failure, including a configuration error, is a `Left`, never a rejection.
 *
 * @example
 * import { Errors, run, evaluate, trackParam, memorySink, mlflowSink, Track } from 'charmory-track'
 * import * as E from 'fp-ts/lib/Either.js'
 * import { pipe } from 'fp-ts/lib/function.js'
 *
 * const program = pipe(
 *   trackParam('lr', 0.1),
 *   Track.flatMap(() => evaluate({ experiment: 'demo' }, async () => ({ accuracy: 0.9 })))
 * )
 * const sink = memorySink()
 * const result = await run(program, { sink })
 * assert.ok(E.isRight(result))
 * assert.strictEqual(sink.snapshot().runs[0]?.params['lr'], '0.1')
 *
 * // a failure is a Left, never a rejected promise
 * const failed = await run(Track.fail(Errors.invalidKey('a//b', 'contains "//"')), { sink })
 * assert.deepStrictEqual(failed, E.left(Errors.invalidKey('a//b', 'contains "//"')))
 *
 * // so is a sink that cannot be built
 * const unbuilt = await run(program, { sink: mlflowSink('ftp://example.org') })
 * assert.ok(E.isLeft(unbuilt) && unbuilt.left._tag === 'ConfigError')
 *
 * @category interpreters
 * @since 0.1.0
 */
export const run = node.run

/**
 * `run`, rejecting with a `TrackException` instead of returning a `Left`.
 * @category interpreters
 * @since 0.1.0
 */
export const runPromise = node.runPromise

/**
 * Builds a sink description once, to share between many `run`s; close it when done.
 *
 * @example
 * import { openSink, localSink, evaluate, run } from 'charmory-track'
 * import * as E from 'fp-ts/lib/Either.js'
 * import { mkdtempSync } from 'node:fs'
 * import { tmpdir } from 'node:os'
 * import { join } from 'node:path'
 *
 * const opened = await openSink(localSink({ dir: mkdtempSync(join(tmpdir(), 'shared-')) }))
 * assert.ok(E.isRight(opened))
 * const sink = opened.right
 * for (const seed of [1, 2]) await run(evaluate({ experiment: 'shared', runName: `seed-${seed}` }, async () => ({ seed })), { sink })
 * const runs = await sink.query.searchRuns({ experiments: ['shared'] })()
 * assert.ok(E.isRight(runs) && runs.right.runs.length === 2)
 * await sink.close()
 *
 * @category interpreters
 * @since 0.2.0
 */
export const openSink = node.openSink
