import t from 'tap'
import * as E from 'fp-ts/lib/Either.js'
import { ArtifactPath } from 'charmory-track'

t.test('relative paths come back in normal form', async (t) => {
  t.strictSame(ArtifactPath.validateArtifactPath('model.bin'), E.right('model.bin'))
  t.strictSame(ArtifactPath.validateArtifactPath('plots/./roc.png'), E.right('plots/roc.png'))
  t.strictSame(ArtifactPath.validateArtifactPath('a//b/'), E.right('a/b'))
  t.strictSame(ArtifactPath.validateArtifactPath('./metrics/chain.txt'), E.right('metrics/chain.txt'))
  t.strictSame(ArtifactPath.validateArtifactPath('a..b/c'), E.right('a..b/c'))
  t.strictSame(ArtifactPath.validateArtifactPath('100%.txt'), E.right('100%.txt'), 'a % that starts no escape stays')
  t.strictSame(ArtifactPath.validateArtifactPath('a?b/c;d.txt'), E.right('a?b/c;d.txt'), 'inside a name, ? and ; are plain characters')
  t.strictSame(ArtifactPath.validateArtifactPath('ünï cödé.txt'), E.right('ünï cödé.txt'))
  t.strictSame(ArtifactPath.validateArtifactPath(' a.txt'), E.right(' a.txt'), 'a leading space is kept in a file name')
  t.strictSame(ArtifactPath.validateArtifactPath('b/c:d'), E.right('b/c:d'), 'a ":" past the first name is a plain character')
})

t.test("a path MLflow's server would refuse, or store under another name, is refused by every sink", async (t) => {
  const decoded = 'the MLflow server percent-decodes paths (%2e is ".", %20 a space): write the characters themselves'
  const urlSyntax = 'the MLflow server reads a "?" or ";" at the end of a name as URL syntax and drops it'
  const bad: ReadonlyArray<readonly [string, string]> = [
    ['%2e%2e/x.txt', decoded],
    ['a%20b.txt', decoded],
    ['%C3%BC.txt', decoded],
    ['%ff.txt', decoded],
    ['notes#1.txt', 'the MLflow server refuses "#" in a path'],
    ['a\nb.txt', 'a control character would be stored as a %xx escape by the MLflow server'],
    ['del\u007f.txt', 'a control character would be stored as a %xx escape by the MLflow server'],
    ['x.txt?', urlSyntax],
    ['dir/x.txt;', urlSyntax],
    ['dir/x;?y', urlSyntax],
    ['a;/b', urlSyntax],
    ['a?/b', urlSyntax],
    [' a/b', "the MLflow server drops the leading spaces of a folder's name when it lists the folder"]
  ]
  for (const [path, reason] of bad) {
    t.strictSame(ArtifactPath.validateArtifactPath(path), E.left({ _tag: 'InvalidArtifactPath', path, reason }), JSON.stringify(path))
  }
})

t.test('a path that leaves the run folder or names nothing is InvalidArtifactPath', async (t) => {
  const bad: ReadonlyArray<readonly [string, string]> = [
    ['/etc/passwd', 'an artifact path must be relative to the run'],
    ['C:/Users/x', 'an artifact path must be relative to the run'],
    ['c:file', 'an artifact path must be relative to the run'],
    ['file:x/y', 'an artifact path must be relative to the run'],
    ['plots\\roc.png', 'use "/" to separate folders'],
    ['../secrets', 'a ".." segment would leave the run folder'],
    ['a/../../b', 'a ".." segment would leave the run folder'],
    ['', 'the path names no file'],
    ['./', 'the path names no file']
  ]
  for (const [path, reason] of bad) {
    t.strictSame(ArtifactPath.validateArtifactPath(path), E.left({ _tag: 'InvalidArtifactPath', path, reason }), path)
  }
})

t.test('joinArtifactPath puts a name under a folder, or at the root', async (t) => {
  t.equal(ArtifactPath.joinArtifactPath('plots', 'roc.png'), 'plots/roc.png')
  t.equal(ArtifactPath.joinArtifactPath('', 'roc.png'), 'roc.png')
  t.equal(ArtifactPath.joinArtifactPath(undefined, 'roc.png'), 'roc.png')
})
