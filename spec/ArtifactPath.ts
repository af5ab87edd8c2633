import t from 'tap'
import * as E from 'fp-ts/lib/Either.js'
import { joinArtifactPath, validateArtifactPath } from 'charmory-track'

t.test('relative paths come back in normal form', async (t) => {
  t.strictSame(validateArtifactPath('model.bin'), E.right('model.bin'))
  t.strictSame(validateArtifactPath('plots/./roc.png'), E.right('plots/roc.png'))
  t.strictSame(validateArtifactPath('a//b/'), E.right('a/b'))
  t.strictSame(validateArtifactPath('./metrics/chain.txt'), E.right('metrics/chain.txt'))
  t.strictSame(validateArtifactPath('a..b/c'), E.right('a..b/c'))
})

t.test('a path that leaves the run folder or names nothing is InvalidArtifactPath', async (t) => {
  const bad: ReadonlyArray<readonly [string, string]> = [
    ['/etc/passwd', 'an artifact path must be relative to the run'],
    ['C:/Users/x', 'an artifact path must be relative to the run'],
    ['c:file', 'an artifact path must be relative to the run'],
    ['plots\\roc.png', 'use "/" to separate folders'],
    ['../secrets', 'a ".." segment would leave the run folder'],
    ['a/../../b', 'a ".." segment would leave the run folder'],
    ['', 'the path names no file'],
    ['./', 'the path names no file']
  ]
  for (const [path, reason] of bad) {
    t.strictSame(validateArtifactPath(path), E.left({ _tag: 'InvalidArtifactPath', path, reason }), path)
  }
})

t.test('joinArtifactPath puts a name under a folder, or at the root', async (t) => {
  t.equal(joinArtifactPath('plots', 'roc.png'), 'plots/roc.png')
  t.equal(joinArtifactPath('', 'roc.png'), 'roc.png')
  t.equal(joinArtifactPath(undefined, 'roc.png'), 'roc.png')
})
