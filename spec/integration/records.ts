// Results, dictionaries, text, tables, images and dataset inputs: the same program on the
// memory sink, the local store (then synced to the real server) and the MLflow sink; what the
// server holds is read back by MLflow's Python client.
import t, { type Test } from 'tap'
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { execFileSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { Digest, Errors, LocalStore, Sink, evaluate, localSink, memorySink, mlflowSink, reopen, run, type RunHandle, syncStore } from 'charmory-track'
import { openStore } from '../support/local-store.js'
import { fixedSource } from '../support/behaviour.js'
import { built } from '../support/sinks.js'
import { childEnv } from '../support/local-store.js'
import { mlflowExecutable, serverFor } from '../support/mlflow-server.js'

const server = await serverFor(t)
if (server === undefined) process.exit(0)

const T0 = 1_700_000_000_000
const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3])
const TABLE_TAG = '[{"path": "eval/predictions.json", "type": "table"}]'
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)
const text = (b: Uint8Array): string => new TextDecoder().decode(b)

const right = <A>(r: E.Either<Errors.TrackError, A>): A => {
  if (E.isLeft(r)) throw new Error(`expected success, got ${Errors.describeError(r.left)}`)
  return r.right
}

const rejection = async (p: Promise<unknown>): Promise<Errors.TrackError | undefined> => {
  try {
    await p
    return undefined
  } catch (e) {
    return e instanceof Errors.TrackException ? e.error : undefined
  }
}

const SCHEMA = '{"mlflow_colspec": [{"type": "string", "name": "image"}]}'
const dataset = { name: 'cifar10-test', digest: Digest.digestOf('cifar10 test split'), sourceType: 'local', source: '/data/cifar10/test.npz', profile: { num_rows: 2 }, schema: SCHEMA, context: 'eval' }

/** The program every sink runs; yields the run id. */
const program = (experiment: string) =>
  evaluate({ experiment }, async (r: RunHandle) => {
    await r.logDict('config/model.json', { name: 'resnet18', version: '1.2', layers: [18] })
    await r.logDict('config/model.yaml', { name: 'resnet18', version: '1.2', layers: [18] })
    await r.logText('notes.md', '# ok\n')
    await r.logTable('eval/predictions.json', [{ image: 'a.png', label: 3 }, { image: 'b.png', label: 5 }])
    await r.logTable('eval/predictions.json', { image: ['a.png', 'b.png'], label: [3, 5] })
    await r.logImage('images/sample.png', PNG)
    await r.logInput(dataset)
    await r.logInput({ ...dataset, context: 'again' }) // the same name and digest: skipped
    return { accuracy: 0.5, chain: { clean: 0.75 } }
  })

const RESULTS = '{\n  "accuracy": 0.5,\n  "chain": {\n    "clean": 0.75\n  }\n}'
const TABLE = '{"columns":["image","label"],"data":[["a.png",3],["b.png",5]]}'
const JSON_DICT = '{\n  "name": "resnet18",\n  "version": "1.2",\n  "layers": [\n    18\n  ]\n}'
const YAML_DICT = 'name: resnet18\nversion: "1.2"\nlayers:\n  - 18\n'
const INPUT = {
  name: 'cifar10-test',
  digest: dataset.digest,
  sourceType: 'local',
  source: '{"uri":"/data/cifar10/test.npz"}',
  schema: SCHEMA,
  profile: '{"num_rows":2}',
  tags: [['mlflow.data.context', 'eval']]
}

const expectedArtifacts = {
  'config/model.json': JSON_DICT,
  'config/model.yaml': YAML_DICT,
  'eval/predictions.json': TABLE,
  'notes.md': '# ok\n',
  'results.json': RESULTS
}

const env = (sink: Sink.Sink) => ({ sink, clock: { now: () => T0 }, source: () => fixedSource(), logger: { warn: () => undefined, info: () => undefined } })

/** What MLflow's Python client reads of a run: artifacts (text), the table tag, dataset inputs, the YAML dict parsed. */
const pythonRead = (runId: string): Record<string, unknown> => {
  const script = `
import json, os, sys, tempfile, yaml
from mlflow import MlflowClient
c = MlflowClient()
run_id = sys.argv[1]
run = c.get_run(run_id)
def walk(path=None):
    for f in c.list_artifacts(run_id, path):
        if f.is_dir:
            yield from walk(f.path)
        else:
            yield f.path
files = sorted(walk())
d = tempfile.mkdtemp()
texts = {}
for p in files:
    with open(c.download_artifacts(run_id, p, d), "rb") as fh:
        b = fh.read()
    texts[p] = b.decode("utf-8") if not p.endswith(".png") else list(b)
inputs = [
    {"name": i.dataset.name, "digest": i.dataset.digest, "sourceType": i.dataset.source_type, "source": i.dataset.source,
     "schema": i.dataset.schema, "profile": i.dataset.profile, "tags": [[t.key, t.value] for t in i.tags]}
    for i in run.inputs.dataset_inputs
]
print(json.dumps({"files": files, "texts": texts, "tables": run.data.tags.get("mlflow.loggedArtifacts"),
                  "yaml": yaml.safe_load(texts["config/model.yaml"]), "inputs": inputs,
                  "accuracy": run.data.metrics.get("accuracy")}))
`
  const out = execFileSync(join(dirname(mlflowExecutable()!), 'python'), ['-c', script, runId], {
    cwd: tmpdir(),
    encoding: 'utf8',
    env: childEnv({ MLFLOW_TRACKING_URI: server.url })
  })
  return JSON.parse(out) as Record<string, unknown>
}

const checkPython = (t: Test, runId: string): void => {
  const read = pythonRead(runId)
  t.strictSame(read['files'], [...Object.keys(expectedArtifacts), 'images/sample.png'].sort())
  const texts = read['texts'] as Record<string, unknown>
  for (const [p, body] of Object.entries(expectedArtifacts)) t.equal(texts[p], body, p)
  t.strictSame(texts['images/sample.png'], [...PNG])
  t.equal(read['tables'], TABLE_TAG)
  t.strictSame(read['yaml'], { name: 'resnet18', version: '1.2', layers: [18] })
  t.strictSame(read['inputs'], [INPUT])
  t.equal(read['accuracy'], 0.5)
}

t.test('memory sink: every record kept', async (t) => {
  const sink = memorySink()
  right(await run(program('records'), env(sink)))
  const stored = sink.snapshot().runs[0]!
  t.strictSame(Object.keys(stored.artifacts).sort(), [...Object.keys(expectedArtifacts), 'images/sample.png'].sort())
  for (const [p, body] of Object.entries(expectedArtifacts)) t.equal(text(stored.artifacts[p]!), body, p)
  t.strictSame(stored.artifacts['images/sample.png'], PNG)
  t.equal(stored.tags['mlflow.loggedArtifacts'], TABLE_TAG)
  t.strictSame(stored.inputs, [INPUT])
})

t.test('MLflow sink: read back by the Python client', async (t) => {
  const sink = await built(mlflowSink(server.url), { logger: { warn: () => undefined, info: () => undefined } })
  t.teardown(() => sink.close())
  const { runId } = right(await run(program(`records ${randomUUID().slice(0, 8)}`), env(sink)))
  checkPython(t, runId)
  // a dataset with neither schema nor profile
  right(await run(reopen(runId, (r) => r.logInput({ name: 'bare', digest: 'b', sourceType: 'code', source: 'inline' })), env(sink)))
  const inputs = pythonRead(runId)['inputs'] as Array<Record<string, unknown>>
  t.match(inputs[1], { name: 'bare', digest: 'b', sourceType: 'code', source: '{"uri":"inline"}', tags: [] })
})

t.test('local store: journaled, read back, and synced to the server with the datasets', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'records-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const { runId } = right(await run(program(`records local ${randomUUID().slice(0, 8)}`), env(openStore(dir))))
  const stored = right(await LocalStore.loadRun(dir, runId)())
  t.strictSame(stored.inputs, [INPUT])
  t.equal(stored.tags['mlflow.loggedArtifacts'], TABLE_TAG)
  t.equal(text(right(await LocalStore.readArtifact(dir, runId, 'results.json')())), RESULTS)
  const target = await built(mlflowSink(server.url), { logger: { warn: () => undefined, info: () => undefined } })
  t.teardown(() => target.close())
  right(await syncStore(dir, target)())
  const remoteId = right(await LocalStore.loadRun(dir, runId)()).sync[0]!.remoteRunId
  checkPython(t, remoteId)
})

t.test('the handle refuses bad records at once, naming them; opting out of results.json', async (t) => {
  const sink = memorySink()
  const refusals: Array<Errors.TrackError | undefined> = []
  let kept: RunHandle | undefined
  const r = await run(
    evaluate({ experiment: 'refusals', resultsArtifact: false }, async (h) => {
      kept = h
      refusals.push(await rejection(h.logText('a.txt', 3 as unknown as string)))
      refusals.push(await rejection(h.logDict('a.json', () => 1)))
      refusals.push(await rejection(h.logTable('a.csv', [])))
      refusals.push(await rejection(h.logTable('a.json', { a: [1], b: [] })))
      refusals.push(await rejection(h.logImage('a.txt', PNG)))
      refusals.push(await rejection(h.logImage('a.png', 'png' as unknown as Uint8Array)))
      refusals.push(await rejection(h.logInput({ ...dataset, digest: '' })))
      refusals.push(await rejection(h.logText('../a.txt', 'x')))
      return { accuracy: 1 }
    }),
    env(sink)
  )
  right(r)
  t.match(await rejection(kept!.logInput(dataset)), { _tag: 'RunEnded' }, 'no dataset input once the run ended')
  t.match(refusals, [
    { _tag: 'InvalidValue', key: 'a.txt' },
    { _tag: 'InvalidValue', key: 'a.json' },
    { _tag: 'InvalidValue', key: 'a.csv' },
    { _tag: 'InvalidValue', key: 'columns' },
    { _tag: 'InvalidValue', key: 'a.txt' },
    { _tag: 'InvalidValue', key: 'a.png' },
    { _tag: 'InvalidValue', key: 'dataset.digest' },
    { _tag: 'InvalidArtifactPath', path: '../a.txt' }
  ])
  const stored = sink.snapshot().runs[0]!
  t.strictSame(stored.artifacts, {}, 'no results.json when opted out')
  t.strictSame(stored.metrics['accuracy']?.map((p) => p.value), [1])
})

t.test('a sink without queries or dataset inputs: tables still listed, datasets refused', async (t) => {
  const memory = memorySink()
  const bare: Sink.Sink = {
    name: 'bare',
    experiment: memory.experiment,
    openRun: (request) => TE.map(({ logInputs: _drop, ...rest }: import('charmory-track').Sink.RunSink) => rest)(memory.openRun(request)),
    reopenRun: memory.reopenRun
  }
  const errors: Array<Errors.TrackError | undefined> = []
  right(
    await run(
      evaluate({ experiment: 'bare' }, async (h) => {
        await h.logTable('a.json', [{ x: 1 }])
        await h.logTable('b.json', [{ x: 2 }])
        errors.push(await rejection(h.logInput(dataset)))
        return undefined
      }),
      env(bare)
    )
  )
  t.match(errors, [{ _tag: 'Unsupported', what: 'dataset inputs', where: 'bare' }])
  t.equal(Errors.describeError(errors[0]!), 'bare cannot record dataset inputs')
  t.equal(memory.snapshot().runs[0]?.tags['mlflow.loggedArtifacts'], '[{"path": "a.json", "type": "table"}, {"path": "b.json", "type": "table"}]')
  t.notOk('results.json' in (memory.snapshot().runs[0]?.artifacts ?? {}), 'no results, no results.json')
  const lost: Sink.Sink = { ...memory, query: { ...memory.query, getRun: () => TE.left({ _tag: 'NotFound', what: 'run', id: 'x' }) } }
  right(await run(evaluate({ experiment: 'lost' }, async (h) => h.logTable('c.json', [{ x: 1 }])), env(lost)))
  t.equal(memory.snapshot().runs[1]?.tags['mlflow.loggedArtifacts'], '[{"path": "c.json", "type": "table"}]')
})
