/**
 * What an evaluation team records besides metrics: the dataset it read (name, digest, source,
 * context `eval`, shown in the MLflow UI's Datasets column), the model's identity as params,
 * a config dictionary, a table of predictions (shown by the UI as a table), a note, an image,
 * and the results themselves as `results.json`. System metrics are sampled while it runs
 * (every MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL seconds, 10 by default).
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Digest, Errors, evaluate, Query, run, sinkFromEnv, Track, trackParam } from 'charmory-track'

// a small "dataset" on disk, and its digest as MLflow computes one
const dir = mkdtempSync(join(tmpdir(), 'records-example-'))
const data = join(dir, 'test.csv')
writeFileSync(data, 'image,label\na.png,3\nb.png,5\n')
const digest = await Digest.fileDigest(data)()
if (E.isLeft(digest)) throw new Error(Errors.describeError(digest.left))

const program = pipe(
  // the model's identity as params: name, version, and the digest of its weights
  trackParam('model', { name: 'resnet18', version: '1.2.0', digest: 'c0ffee12' }),
  Track.flatMap(() =>
    evaluate({ experiment: 'records-example', systemMetrics: true }, async (r) => {
      await r.logInput({ name: 'toy-test', digest: digest.right, sourceType: 'local', source: data, profile: { num_rows: 2 }, context: 'eval' })
      await r.logDict('config.yaml', { attack: { name: 'pgd', eps: 0.03 }, batch_size: 16 })
      await r.logTable('predictions.json', [
        { image: 'a.png', label: 3, predicted: 3 },
        { image: 'b.png', label: 5, predicted: 2 }
      ])
      await r.logText('notes.md', '# toy run\nOne of two right.\n')
      await r.logImage('images/pixel.png', Uint8Array.from(Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64')))
      return { accuracy: 0.5 }
    })
  ),
  Track.flatMap(({ runId }) => Query.getRun(runId))
)

const found = await run(program, { sink: sinkFromEnv() })
rmSync(dir, { recursive: true, force: true })
if (E.isLeft(found)) {
  console.error(Errors.describeError(found.left))
  process.exit(1)
}
console.log(`run id: ${found.right.runId}`)
console.log(`model: ${found.right.params['model.name']} ${found.right.params['model.version']} (${found.right.params['model.digest']})`)
console.log(`dataset digest: ${digest.right}`)
console.log(`tables: ${found.right.tags['mlflow.loggedArtifacts']}`)
