import t, { type Test } from 'tap'
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { dirname, join, resolve } from 'node:path'
import {
  Context,
  endOpenRuns,
  evaluate,
  getParams,
  loadRun,
  mlflowSink,
  makeEnv,
  memorySink,
  nodeFiles,
  nodeSource,
  notFound,
  Params,
  run,
  runPromise,
  stderrLogger,
  systemClock,
  Track,
  trackParam,
  TrackingFailure,
  runEnded,
  type JournalSetting,
  type MemorySnapshot,
  type RunSink,
  type Sink
} from 'charmory-track'
import { gitCommitAt } from '../lib/Runtime.js'
import { captureLogger } from './support/behaviour.js'
import { tempDir as tempDirWith, withVars } from './support/local-store.js'

/** A temporary folder outside any git checkout, removed after the test. */
const tempDir = (t: Test): string => tempDirWith(t, 'charmory-runtime-')

const git = (cwd: string, ...args: Array<string>): string => {
  const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'], HOME: cwd, GIT_CONFIG_NOSYSTEM: '1' }
  return execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.org', ...args], {
    cwd,
    env,
    encoding: 'utf8'
  }).trim()
}

/** A repository with one commit on branch `main`. */
const repo = (t: Test): { readonly dir: string; readonly head: string } => {
  const dir = join(tempDir(t), 'repo')
  mkdirSync(dir)
  git(dir, 'init', '-q', '-b', 'main')
  writeFileSync(join(dir, 'eval.ts'), 'export {}\n')
  git(dir, 'add', 'eval.ts')
  git(dir, 'commit', '-q', '-m', 'first')
  return { dir, head: git(dir, 'rev-parse', 'HEAD') }
}

// -------------------------------------------------------------------------------------
// run
// -------------------------------------------------------------------------------------

t.test('run starts from an empty context, or the one given', async (t) => {
  const sink = memorySink()
  t.strictSame(await run(getParams, { sink }), E.right({}))
  const start = Context.fromParams(Params.fromEntries([['seed', '1']]))
  t.strictSame(await run(getParams, { sink }, start), E.right({ seed: '1' }))
})

t.test('run turns a pipeline that throws into TaskFailed', async (t) => {
  const cause = new Error('not a well-behaved pipeline')
  const throwing: Track.Track<number> = () => {
    throw cause
  }
  t.strictSame(await run(throwing, { sink: memorySink() }), E.left({ _tag: 'TaskFailed', message: cause.message, cause }))
})

t.test('runPromise resolves with the value or rejects with a TrackingFailure', async (t) => {
  const sink = memorySink()
  t.strictSame(await runPromise(Track.of(3), { sink }), 3)
  t.strictSame(await runPromise(getParams, { sink }, Context.fromParams(Params.fromEntries([['a', '1']]))), { a: '1' })
  const error = notFound('run', 'x')
  await t.rejects(runPromise(Track.fail(error), { sink }), new TrackingFailure(error))
  try {
    await runPromise(Track.fail(error), { sink })
  } catch (e) {
    t.equal((e as TrackingFailure).error, error)
  }
})

t.test('makeEnv fills what was not given with Node defaults', async (t) => {
  const sink = memorySink()
  const env = makeEnv({ sink })
  t.equal(env.sink, sink)
  t.equal(env.clock, systemClock)
  t.equal(env.logger, stderrLogger)
  t.equal(env.files, nodeFiles)
  t.equal(env.source, nodeSource)
  const { logger } = captureLogger()
  const clock = { now: () => 5 }
  const given = makeEnv({ sink, logger, clock })
  t.equal(given.logger, logger)
  t.equal(given.clock, clock)
})

t.test('the environment given to run reaches the pipeline', async (t) => {
  const { logger, warnings } = captureLogger()
  const program = Track.flatMap(() => trackParam('a', 2))(trackParam('a', 1))
  await run(program, { sink: memorySink(), logger })
  t.strictSame(warnings, ['param "a" overwritten: "1" -> "2"'])
})

// -------------------------------------------------------------------------------------
// instances
// -------------------------------------------------------------------------------------

t.test('systemClock reads the wall clock in milliseconds', async (t) => {
  const before = Date.now()
  const now = systemClock.now()
  t.ok(Number.isSafeInteger(now))
  t.ok(now >= before && now <= Date.now())
})

t.test('stderrLogger writes one prefixed line per message to standard error', async (t) => {
  const writes = t.capture(process.stderr, 'write', () => true)
  stderrLogger.warn('param "a" overwritten')
  stderrLogger.info('run 1 started')
  t.strictSame(
    writes().map((c) => c.args[0]),
    ['charmory-track: warning: param "a" overwritten\n', 'charmory-track: run 1 started\n']
  )
})

t.test('nodeFiles reads a file as bytes, or fails with a FileError naming it', async (t) => {
  const dir = tempDir(t)
  const bytes = Uint8Array.from({ length: 200 }, (_, i) => 255 - i)
  writeFileSync(join(dir, 'w.bin'), bytes)
  t.strictSame(await nodeFiles.readFile(join(dir, 'w.bin'))(), E.right(bytes))
  const missing = join(dir, 'missing.bin')
  const r = await nodeFiles.readFile(missing)()
  t.match(r, E.left({ _tag: 'FileError', path: missing, message: /ENOENT/ }))
  t.match(await nodeFiles.readFile(dir)(), E.left({ _tag: 'FileError', path: dir, message: /EISDIR/ }))
})

t.test('nodeFiles gives a FileError whatever the file system rejects with', async (t) => {
  const { readdir } = await import('node:fs/promises')
  const odd = await t.mockImport<typeof import('../lib/Runtime.js')>('../lib/Runtime.js', {
    'node:fs/promises': { readFile: () => Promise.reject('EIO: the disk went away'), readdir }
  })
  t.strictSame(await odd.nodeFiles.readFile('/data/w.bin')(), E.left({ _tag: 'FileError', path: '/data/w.bin', message: 'EIO: the disk went away' }))
})

t.test('nodeFiles lists the files of a folder recursively, sorted, with "/" paths', async (t) => {
  const dir = tempDir(t)
  mkdirSync(join(dir, 'plots', 'deep'), { recursive: true })
  mkdirSync(join(dir, 'empty'))
  writeFileSync(join(dir, 'z.txt'), 'z')
  writeFileSync(join(dir, 'a.txt'), 'a')
  writeFileSync(join(dir, 'plots', 'roc.png'), 'r')
  writeFileSync(join(dir, 'plots', 'deep', 'pr.png'), 'p')
  symlinkSync(join(dir, 'a.txt'), join(dir, 'link-to-a'))
  t.strictSame(await nodeFiles.listFiles(dir)(), E.right(['a.txt', 'plots/deep/pr.png', 'plots/roc.png', 'z.txt']), 'links are not followed')
  const missing = join(dir, 'nope')
  t.match(await nodeFiles.listFiles(missing)(), E.left({ _tag: 'FileError', path: missing, message: /ENOENT/ }))
})

t.test('nodeSource describes this process once: user, entry script, its git commit', async (t) => {
  const source = nodeSource()
  t.type(source.user, 'string')
  t.not(source.user, '')
  t.equal(source.sourceName, resolve(process.argv[1] ?? ''))
  t.equal(O.isSome(source.gitCommit), O.isSome(gitCommitAt(dirname(source.sourceName))), 'a commit when in a checkout')
  t.ok(O.isNone(source.gitCommit) || /^[0-9a-f]{40}$/.test(source.gitCommit.value))
  t.equal(nodeSource(), source, 'read once per process')
})

t.test('nodeSource names the commit checked out where the entry script lives', async (t) => {
  const { dir, head } = repo(t)
  const saved = process.argv
  t.teardown(() => void (process.argv = saved))
  process.argv = [saved[0] ?? 'node', join(dir, 'eval.ts')]
  const fresh = await t.mockImport<typeof import('../lib/Runtime.js')>('../lib/Runtime.js')
  t.match(fresh.nodeSource(), { sourceName: join(dir, 'eval.ts'), gitCommit: O.some(head) })
})

t.test('nodeSource without a user entry or an entry script', async (t) => {
  const saved = { argv: process.argv, user: process.env['USER'] }
  t.teardown(() => {
    process.argv = saved.argv
    if (saved.user === undefined) delete process.env['USER']
    else process.env['USER'] = saved.user
  })
  const noUser = (): never => {
    throw new Error('no passwd entry for uid 4242')
  }
  process.argv = [process.argv[0] ?? 'node']
  process.env['USER'] = 'from-env'
  const fresh = await t.mockImport<typeof import('../lib/Runtime.js')>('../lib/Runtime.js', { 'node:os': { userInfo: noUser } })
  t.strictSame(fresh.nodeSource(), { user: 'from-env', sourceName: 'node', gitCommit: gitCommitAt(resolve('.')) })
  delete process.env['USER']
  const again = await t.mockImport<typeof import('../lib/Runtime.js')>('../lib/Runtime.js', { 'node:os': { userInfo: noUser } })
  t.equal(again.nodeSource().user, 'unknown')
})

// -------------------------------------------------------------------------------------
// gitCommitAt
// -------------------------------------------------------------------------------------

t.test('gitCommitAt reads a branch from a loose ref, also from a sub-folder', async (t) => {
  const { dir, head } = repo(t)
  mkdirSync(join(dir, 'src', 'deep'), { recursive: true })
  t.strictSame(gitCommitAt(dir), O.some(head))
  t.strictSame(gitCommitAt(join(dir, 'src', 'deep')), O.some(head))
})

t.test('gitCommitAt reads packed refs', async (t) => {
  const { dir, head } = repo(t)
  git(dir, 'pack-refs', '--all', '--prune')
  t.strictSame(gitCommitAt(dir), O.some(head))
})

t.test('gitCommitAt reads a detached HEAD', async (t) => {
  const { dir, head } = repo(t)
  writeFileSync(join(dir, 'more.ts'), 'export {}\n')
  git(dir, 'add', 'more.ts')
  git(dir, 'commit', '-q', '-m', 'second')
  git(dir, 'checkout', '-q', '--detach', head)
  t.strictSame(gitCommitAt(dir), O.some(head))
})

t.test('gitCommitAt follows the .git file of a linked worktree to the common folder', async (t) => {
  const { dir, head } = repo(t)
  const wt = join(dir, '..', 'wt')
  git(dir, 'worktree', 'add', '-q', '-b', 'feature', wt)
  t.strictSame(gitCommitAt(wt), O.some(head))
  git(dir, 'pack-refs', '--all', '--prune')
  t.strictSame(gitCommitAt(wt), O.some(head), 'packed in the common folder')
})

t.test('gitCommitAt reads a ref kept in a worktree own git folder', async (t) => {
  const root = tempDir(t)
  const common = join(root, 'common')
  const gitDir = join(root, 'wt-git')
  mkdirSync(common)
  mkdirSync(join(gitDir, 'refs', 'bisect'), { recursive: true })
  writeFileSync(join(gitDir, 'commondir'), '../common\n')
  writeFileSync(join(gitDir, 'HEAD'), 'ref: refs/bisect/bad\n')
  writeFileSync(join(gitDir, 'refs', 'bisect', 'bad'), `${'b'.repeat(40)}\n`)
  mkdirSync(join(root, 'work'))
  writeFileSync(join(root, 'work', '.git'), `gitdir: ${gitDir}\n`)
  t.strictSame(gitCommitAt(join(root, 'work')), O.some('b'.repeat(40)))
})

t.test('gitCommitAt gives none when there is no commit to name', async (t) => {
  const outside = tempDir(t)
  t.strictSame(gitCommitAt(outside), O.none, 'not in a checkout')

  const unborn = join(tempDir(t), 'unborn')
  mkdirSync(unborn)
  git(unborn, 'init', '-q', '-b', 'main')
  t.strictSame(gitCommitAt(unborn), O.none, 'a repository without commits')

  const odd = tempDir(t)
  mkdirSync(join(odd, '.git'))
  writeFileSync(join(odd, '.git', 'HEAD'), 'something else\n')
  t.strictSame(gitCommitAt(odd), O.none, 'a HEAD that is neither a ref nor a commit')

  const broken = tempDir(t)
  writeFileSync(join(broken, '.git'), 'gitdir: ./nowhere\n')
  t.strictSame(gitCommitAt(broken), O.none, 'a .git file pointing nowhere')
})

t.test('gitCommitAt gives none for a .git that cannot be read', async (t) => {
  const dir = tempDir(t)
  const server = createServer()
  await new Promise<void>((ok) => server.listen(join(dir, '.git'), ok))
  t.teardown(() => new Promise<void>((ok) => server.close(() => ok())))
  t.strictSame(gitCommitAt(dir), O.none)
})

// -------------------------------------------------------------------------------------
// the sink a run writes to: the journal of an MLflow sink
// -------------------------------------------------------------------------------------

/** A memory sink that asks for a journal the way an `mlflowSink` does. */
const asking = (journal: JournalSetting | undefined) => {
  const memory = memorySink()
  return { memory, sink: { ...memory, name: 'mlflow:http://127.0.0.1:5999', journal } }
}

const evaluation = evaluate({ experiment: 'journaled' }, async (r) => {
  await r.logMetric('loss', 0.5, { step: 1, timestamp: 7 })
  return { accuracy: 0.9 }
})

t.test('run journals the runs of a sink that asks for it (an mlflowSink, by default) in a local store', async (t) => {
  const home = tempDir(t)
  withVars(t, { ARMORY_HOME: home, CHARMORY_TRACK_FALLBACK: undefined })
  const elsewhere = tempDir(t)
  const cases: ReadonlyArray<readonly [string, JournalSetting | undefined, string | undefined]> = [
    ['by default, in $ARMORY_HOME/mlruns', undefined, join(home, 'mlruns')],
    ['true: the default store', true, join(home, 'mlruns')],
    ['{ dir }: that store', { dir: elsewhere }, elsewhere],
    ['false: no local file', false, undefined]
  ]
  for (const [what, journal, dir] of cases) {
    const { memory, sink } = asking(journal)
    const done = await run(evaluation, { sink, logger: captureLogger().logger })
    t.ok(E.isRight(done), what)
    const runId = E.isRight(done) ? done.right.runId : ''
    t.equal(memory.snapshot().runs.find((r) => r.runId === runId)?.status, 'FINISHED', `${what}: on the server`)
    if (dir === undefined) continue
    const stored = await loadRun(dir, runId)()
    t.match(stored, { right: { status: 'FINISHED', synced: true, metricHistories: { loss: [{ value: 0.5 }] } } }, `${what}: journaled`)
  }
  t.notOk(existsSync(join(home, 'mlruns', 'runs', 'x')))
  const plain = memorySink()
  t.ok(E.isRight(await run(evaluation, { sink: plain })), 'a sink that does not ask is used as it is')
  t.equal(mlflowSink('http://127.0.0.1:5999').journal, undefined, 'an mlflowSink asks by default')
  t.equal(mlflowSink('http://127.0.0.1:5999', { journal: false }).journal, false)
})

t.test('CHARMORY_TRACK_FALLBACK=off turns the default journal off', async (t) => {
  const home = tempDir(t)
  withVars(t, { ARMORY_HOME: home, CHARMORY_TRACK_FALLBACK: ' OFF ' })
  const { memory, sink } = asking(undefined)
  t.ok(E.isRight(await run(evaluation, { sink })))
  t.equal(memory.snapshot().runs.length, 1)
  t.notOk(existsSync(join(home, 'mlruns')), 'no local file')
})

// -------------------------------------------------------------------------------------
// signals
// -------------------------------------------------------------------------------------

const listening = (): number => process.listenerCount('SIGINT') + process.listenerCount('SIGTERM')

/** Stubs process.exit: the codes it was called with, and a promise of the first. */
const stubExit = (t: Test) => {
  let first: (code: number) => void = () => undefined
  const exited = new Promise<number>((ok) => (first = ok))
  const codes: Array<number> = []
  t.capture(process, 'exit', ((code: number) => {
    codes.push(code)
    first(code)
  }) as never)
  return { exited, codes: () => [...codes] }
}

/** A promise and the function that resolves it. */
const gate = () => {
  let open: () => void = () => undefined
  const opened = new Promise<void>((ok) => (open = ok))
  return { opened, open }
}

t.test('signal handlers are installed while run runs, and only then; { signals: false } installs none', async (t) => {
  const before = listening()
  let during = -1
  const probe: Track.Track<void> = async (context) => {
    during = listening()
    return { context, result: E.right(undefined) }
  }
  await run(probe, { sink: memorySink() })
  t.equal(during, before + 2, 'SIGINT and SIGTERM while it runs')
  t.equal(listening(), before, 'removed afterwards')
  await run(probe, { sink: memorySink(), signals: false })
  t.equal(during, before)
  const inner: Track.Track<void> = async (context, env) => {
    await run(probe, { sink: env.sink })
    return { context, result: E.right(undefined) }
  }
  await run(inner, { sink: memorySink() })
  t.equal(during, before + 2, 'once, however many runs are in progress')
  t.equal(listening(), before)
})

const signalled = async (t: Test, signal: 'SIGINT' | 'SIGTERM', code: number): Promise<void> => {
  const exit = stubExit(t)
  const memory = memorySink()
  const { logger, warnings } = captureLogger()
  const stop = gate()
  let atExit: MemorySnapshot | undefined
  void exit.exited.then(() => (atExit = memory.snapshot()))
  const result = run(
    evaluate({ experiment: 'interrupted' }, async (r) => {
      for (let step = 0; step < 5; step++) await r.logMetric('loss', step, { step, timestamp: 10 + step })
      process.emit(signal, signal)
      await stop.opened
      throw new Error('interrupted')
    }),
    { sink: memory, logger, clock: { now: () => 99 } }
  )
  t.equal(await exit.exited, code)
  t.match(atExit?.runs, [{ status: 'KILLED', endTime: 99 }], 'the run ended KILLED with its end time')
  t.equal(atExit?.runs[0]?.metrics['loss']?.length, 5, 'with every point logged before the signal')
  t.strictSame(warnings, [`${signal}: ending the open runs KILLED (1); ${signal} again exits at once`])
  stop.open()
  await result
  t.strictSame(exit.codes(), [code])
}

t.test('SIGINT ends the open run KILLED and exits 130', (t) => signalled(t, 'SIGINT', 130))
t.test('SIGTERM ends the open run KILLED and exits 143', (t) => signalled(t, 'SIGTERM', 143))

t.test('a signal with no run open exits at once', async (t) => {
  const before = listening()
  const exit = stubExit(t)
  const { logger, warnings } = captureLogger()
  const waiting: Track.Track<void> = async (context) => {
    process.emit('SIGINT', 'SIGINT')
    await exit.exited
    return { context, result: E.right(undefined) }
  }
  await run(waiting, { sink: memorySink(), logger })
  t.strictSame(exit.codes(), [130])
  t.strictSame(warnings, [])
  t.equal(listening(), before)
})

/** A sink whose runs end only when `release` is called. */
const slowSink = () => {
  const memory = memorySink()
  const held = gate()
  const sink: Sink = {
    ...memory,
    openRun: (request) =>
      TE.map((r: RunSink): RunSink => ({ ...r, end: (status, endTime) => async () => (await held.opened, r.end(status, endTime)()) }))(
        memory.openRun(request)
      )
  }
  return { memory, sink, release: held.open }
}

/** A pipeline that opens a run and leaves it open. */
const leaveOpen = (signal: 'SIGINT' | 'SIGTERM'): Track.Track<void> => async (context, env) => {
  const experimentId = await env.sink.experiment('left open')()
  if (E.isLeft(experimentId)) return { context, result: experimentId }
  const opened = await env.sink.openRun({ experimentId: experimentId.right, runName: 'open', startTime: 1, tags: [] })()
  process.emit(signal, signal)
  return { context, result: E.map(() => undefined)(opened) }
}

t.test('a second signal exits at once, while the runs are still being ended', async (t) => {
  const before = listening()
  const exit = stubExit(t)
  const { sink, memory, release } = slowSink()
  const { logger } = captureLogger()
  let returned = false
  const done = run(leaveOpen('SIGTERM'), { sink, logger, graceMs: 600_000 }).then(() => (returned = true))
  while (memory.snapshot().runs.length === 0) await new Promise((ok) => setImmediate(ok))
  await new Promise((ok) => setTimeout(ok, 10))
  t.equal(listening(), before + 2, 'the handlers stay while the runs are being ended')
  t.strictSame(exit.codes(), [])
  t.notOk(returned, 'run does not return to the program while the process is on its way out')
  process.emit('SIGINT', 'SIGINT')
  t.strictSame(exit.codes(), [130])
  await done
  t.equal(listening(), before, 'and go once the process exits')
  release()
  await new Promise((ok) => setTimeout(ok, 10))
  t.strictSame(exit.codes(), [130], 'the end of the first shutdown does not exit again')
  t.equal(memory.snapshot().runs[0]?.status, 'KILLED')
})

t.test('runs that cannot be ended within graceMs: the process exits anyway, saying so', async (t) => {
  const exit = stubExit(t)
  const { sink, release } = slowSink()
  const { logger, warnings } = captureLogger()
  await run(leaveOpen('SIGINT'), { sink, logger, graceMs: 20 })
  t.equal(await exit.exited, 130)
  t.match(warnings, ['SIGINT: ending the open runs KILLED (1); SIGINT again exits at once', 'the open runs were not ended within 20 ms; exiting'])
  release()
})

t.test('endOpenRuns ends the open runs for a program that handles signals itself', async (t) => {
  const memory = memorySink()
  const { logger, warnings } = captureLogger()
  let afterwards: MemorySnapshot | undefined
  const result = await run(
    evaluate({ experiment: 'own handler' }, async (r) => {
      await r.logMetric('loss', 1)
      await endOpenRuns()
      afterwards = memory.snapshot()
      await t.rejects(r.logMetric('loss', 2), new TrackingFailure(runEnded(r.runId)), 'the ended run takes nothing more')
    }),
    { sink: memory, logger, clock: { now: () => 42 }, signals: false }
  )
  t.ok(E.isRight(result), 'the evaluation ends as the run was ended')
  t.match(memory.snapshot().runs, [{ status: 'KILLED', endTime: 42 }])
  t.match(afterwards?.runs, [{ status: 'KILLED', endTime: 42, metrics: { loss: [{ value: 1 }] } }])
  t.strictSame(warnings, [])

  const failing: Sink = {
    ...memory,
    openRun: (request) => TE.map((r: RunSink): RunSink => ({ ...r, end: () => TE.left(notFound('run', r.runId)) }))(memory.openRun(request))
  }
  await run(
    evaluate({ experiment: 'own handler' }, async () => {
      await endOpenRuns('FAILED')
    }),
    { sink: failing, logger, signals: false }
  )
  t.match(warnings, [/^run \w+ could not be ended: run "\w+" not found$/])
})
