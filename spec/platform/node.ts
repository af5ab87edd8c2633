import t, { type Test } from 'tap'
import * as E from 'fp-ts/lib/Either.js'
import * as O from 'fp-ts/lib/Option.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { createServer } from 'node:net'
import { dirname, join, resolve } from 'node:path'
import { Mlflow, nodePlatform } from 'charmory-track'
import { gitCommitAt, nodeFiles, nodeSource, nodeTransport, stderrLogger } from '../../lib/platform/node.js'
import { systemClock } from '../../lib/platform/web.js'
import { tlsTarget } from '../../lib/mlflow/Config.js'
import { nodeServices } from '../../lib/runtime/node.js'
import { tempDir as tempDirWith } from '../support/local-store.js'

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
  const odd = await t.mockImport<typeof import('../../lib/platform/node.js')>('../../lib/platform/node.js', {
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
  const fresh = await t.mockImport<typeof import('../../lib/platform/node.js')>('../../lib/platform/node.js')
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
  const fresh = await t.mockImport<typeof import('../../lib/platform/node.js')>('../../lib/platform/node.js', { 'node:os': { userInfo: noUser, homedir } })
  t.strictSame(fresh.nodeSource(), { user: 'from-env', sourceName: 'node', gitCommit: gitCommitAt(resolve('.')) })
  delete process.env['USER']
  const again = await t.mockImport<typeof import('../../lib/platform/node.js')>('../../lib/platform/node.js', { 'node:os': { userInfo: noUser, homedir } })
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
// the platform
// -------------------------------------------------------------------------------------

t.test('nodeTransport: a certificate that cannot be read is a ConfigError naming the setting', async (t) => {
  const config = Mlflow.configFor('https://mlflow.example:8443')
  if (E.isLeft(config)) return t.fail('config')
  const tls = { ...tlsTarget(config.right), caCertPath: '/no/such/ca.pem' }
  t.match(await nodeTransport(nodeFiles)(tls)(), E.left({ _tag: 'ConfigError', variable: /caCertPath/, message: 'the file /no/such/ca.pem cannot be read (ENOENT)' }))
  const refusing = { ...nodeFiles, readFile: () => TE.left({ _tag: 'NetworkError', message: 'm', endpoint: 'e' } as const) }
  t.match(await nodeTransport(refusing)(tls)(), E.left({ message: 'the file /no/such/ca.pem cannot be read (NetworkError)' }), 'a platform whose files fail otherwise')
  const plain = await nodeTransport(nodeFiles)(tlsTarget(config.right))()
  if (E.isLeft(plain)) return t.fail('transport')
  plain.right.close()
})

t.test('nodeSignals: SIGINT and SIGTERM reach the handler until unsubscribed', async (t) => {
  const seen: Array<string> = []
  const before = process.listenerCount('SIGINT') + process.listenerCount('SIGTERM')
  const off = nodePlatform.interrupts.onInterrupt((s) => void seen.push(s))
  process.emit('SIGINT', 'SIGINT')
  process.emit('SIGTERM', 'SIGTERM')
  off()
  t.strictSame(seen, ['SIGINT', 'SIGTERM'])
  t.equal(process.listenerCount('SIGINT') + process.listenerCount('SIGTERM'), before)
  const exits: Array<number> = []
  t.capture(process, 'exit', ((code: number) => void exits.push(code)) as never)
  nodePlatform.interrupts.exit(143)
  t.strictSame(exits, [143])
})

t.test('the local store: the default folder from the variables and home, a file: URI or a path from the working folder', async (t) => {
  const store = nodeServices.localStore!({ ...nodePlatform, vars: { ARMORY_HOME: '/data/armory' }, home: undefined })
  t.equal(store.defaultDir, '/data/armory/mlruns')
  t.equal(nodeServices.localStore!({ ...nodePlatform, vars: {}, home: undefined }).defaultDir, join(homedir(), '.armory', 'mlruns'), 'the user\'s home by default')
  t.equal(store.folderOf('file:///x/y'), '/x/y')
  t.equal(store.folderOf('runs'), resolve('runs'))
  t.equal(store.folderOf('file://elsewhere/x'), undefined)
  t.equal(store.sink('/x').name, 'local:/x')
})

t.test('ids are 32 hex digits, new each time', async (t) => {
  t.match(nodePlatform.ids(), /^[0-9a-f]{32}$/)
  t.not(nodePlatform.ids(), nodePlatform.ids())
})
