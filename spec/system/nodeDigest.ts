// Digests as MLflow computes them: compared with mlflow.data.digest_utils in the pinned
// package when Python is there.
import t from 'tap'
import * as E from 'fp-ts/lib/Either.js'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { Digest } from 'charmory-track'

import { childEnv } from '../support/local-store.js'
import { mlflowExecutable } from '../support/mlflow-server.js'

t.test('bytes, text and files give MLflow\'s 8-digit md5 digest', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'digest-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const bytes = new Uint8Array(300_000).map((_, i) => (i * 7) % 256)
  const path = join(dir, 'data.bin')
  writeFileSync(path, bytes)
  t.equal(Digest.digestOf('hello'), '5d41402a')
  t.equal(Digest.digestOf(new TextEncoder().encode('hello')), '5d41402a')
  t.strictSame(await Digest.fileDigest(path)(), E.right(Digest.digestOf(bytes)))
  t.match(await Digest.fileDigest(join(dir, 'missing'))(), { left: { _tag: 'FileError', path: join(dir, 'missing') } })
  const mlflow = mlflowExecutable()
  if (mlflow === undefined) return t.comment('SKIPPING the comparison with Python: no MLflow')
  const python = execFileSync(
    join(dirname(mlflow), 'python'),
    ['-c', 'import sys; from mlflow.data.digest_utils import get_normalized_md5_digest as d; print(d([open(sys.argv[1], "rb").read()]))', path],
    { encoding: 'utf8', env: childEnv() }
  ).trim()
  t.equal(python, Digest.digestOf(bytes), 'the same digest as mlflow.data.digest_utils')
})
