import t from 'tap'
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { Errors, Scope } from 'charmory-track'

const recorder = () => {
  const log: Array<string> = []
  return { log, note: (what: string) => () => void log.push(what) }
}

t.test('close runs every finalizer once, last registered first, and collects the failures', async (t) => {
  const { log, note } = recorder()
  const scope = Scope.make()
  scope.addFinalizer(note('first'))
  scope.addFinalizer(async () => {
    log.push('second')
    throw Errors.fileError('/tmp/journal', 'disk full')
  })
  scope.addFinalizer(() => {
    log.push('third')
    throw new Error('socket already closed')
  })
  const failures = await scope.close()
  t.same(log, ['third', 'second', 'first'])
  t.same(failures.map((e) => e._tag), ['TaskFailed', 'FileError'])
  t.same(await scope.close(), failures, 'a second close answers the same and runs nothing')
  t.same(log, ['third', 'second', 'first'])
})

t.test('a finalizer added to a closed scope runs at once', async (t) => {
  const { log, note } = recorder()
  const scope = Scope.make()
  await scope.close()
  scope.addFinalizer(note('late'))
  await Promise.resolve()
  t.same(log, ['late'])
})

t.test('a child scope closes with its parent, in its turn; closed early it is not closed twice', async (t) => {
  const { log, note } = recorder()
  const parent = Scope.make()
  parent.addFinalizer(note('parent, before'))
  const child = parent.fork()
  child.addFinalizer(note('child'))
  parent.addFinalizer(note('parent, after'))
  const early = parent.fork()
  early.addFinalizer(() => {
    log.push('early')
    throw new Error('once')
  })
  t.same((await early.close()).length, 1)
  const failures = await parent.close()
  t.same(log, ['early', 'parent, after', 'child', 'parent, before'])
  t.same(failures, [], "the early child's failure went to whoever closed it")
})

t.test('acquireRelease registers the release only when the acquisition succeeded', async (t) => {
  const { log } = recorder()
  const scope = Scope.make()
  const ok = await Scope.acquireRelease(scope, TE.right('connection'), (c) => void log.push(`release ${c}`))()
  const refused = await Scope.acquireRelease(scope, TE.left(Errors.configError('x', 'bad')), () => void log.push('never'))()
  t.same(ok, E.right('connection'))
  t.ok(E.isLeft(refused))
  await scope.close()
  t.same(log, ['release connection'])
})

t.test('fromBuild releases what a failed build acquired, and keeps what a good one did', async (t) => {
  const { log, note } = recorder()
  const scope = Scope.make()
  const failed = await Scope.fromBuild(scope, (child) => {
    child.addFinalizer(note('half-built transport'))
    return TE.left(Errors.configError('tls.caCertPath', 'cannot be read'))
  })()
  t.ok(E.isLeft(failed))
  t.same(log, ['half-built transport'], 'released at once')
  const thrown = await Scope.fromBuild(scope, (child) => {
    child.addFinalizer(note('opened before the throw'))
    throw new Error('bug in a sink of your own')
  })()
  t.ok(E.isLeft(thrown) && thrown.left._tag === 'TaskFailed')
  const built = await Scope.fromBuild(scope, (child) => {
    child.addFinalizer(note('journal'))
    return TE.right('sink')
  })()
  t.same(built, E.right('sink'))
  t.same(log, ['half-built transport', 'opened before the throw'])
  await scope.close()
  t.same(log, ['half-built transport', 'opened before the throw', 'journal'])
})

t.test('scoped: the use wins over a failed release; a failed release fails a good use', async (t) => {
  const lost: Array<string> = []
  const onLost = (e: Errors.TrackError) => void lost.push(e._tag)
  const releaseFails = (scope: Scope.Scope) => {
    scope.addFinalizer(() => Promise.reject(Errors.fileError('/a', 'first')))
    scope.addFinalizer(() => Promise.reject(Errors.fileError('/b', 'second')))
  }
  const good = await Scope.scoped((scope) => {
    releaseFails(scope)
    return TE.right(1)
  }, onLost)()
  t.same(good, E.left(Errors.fileError('/b', 'second')), 'the first failure met (the last registered)')
  t.same(lost, ['FileError'], 'the other one is reported')
  lost.length = 0
  const bad = await Scope.scoped((scope) => {
    releaseFails(scope)
    return TE.left(Errors.notFound('run', 'r1'))
  }, onLost)()
  t.same(bad, E.left(Errors.notFound('run', 'r1')))
  t.same(lost, ['FileError', 'FileError'])
  const threw = await Scope.scoped(() => {
    throw new Error('boom')
  }, onLost)()
  t.ok(E.isLeft(threw) && threw.left._tag === 'TaskFailed')
})
