// Every program in examples/ runs as a user would run it, in a child process, and prints
// what it recorded.
import t from 'tap'
import * as E from 'fp-ts/lib/Either.js'
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LocalStore } from 'charmory-track'

const root = new URL('..', import.meta.url).pathname
const examples = readdirSync(join(root, 'examples'))
  .filter((f) => f.endsWith('.ts'))
  .sort()

/** What a known example must print, beyond exiting 0 and printing its run id. */
const expected: Record<string, ReadonlyArray<string | RegExp>> = {
  'records-and-datasets.ts': [
    'model: resnet18 1.2.0 (c0ffee12)',
    /^dataset digest: [0-9a-f]{8}$/m,
    'tables: [{"path": "predictions.json", "type": "table"}]'
  ],
  'walkthrough.ts': [
    /^sink: \S+$/m,
    /^ {2}loadModel\.name = threshold-5$/m,
    /^ {2}loadModel\.optimizer\.lr = 0\.001$/m,
    /^ {2}TheDataset\.batchSize = 4$/m,
    /^ {2}seed = 42$/m,
    /^ {2}running_accuracy\[step 0\] = 1$/m,
    /^ {2}accuracy = 0\.8333333333333334$/m,
    /^ {2}custom_metric = 42 \(added after the run ended\)$/m,
    /^ {2}notes\/summary\.txt/m,
    /^browse it in the MLflow UI: npx charmory-track server$/m
  ],
  'compare-runs.ts': [
    'best earlier run: resnet50 (accuracy 0.94)',
    'gain over the best: -0.01',
    'resnet50: accuracy 0.94, model resnet50',
    'resnet34: accuracy 0.93, model resnet34',
    'resnet18: accuracy 0.91, model resnet18'
  ],
  'ci-gate.ts': [
    /^gate: ok: accuracy 0\.91 \(run \w+\), no baseline run has accuracy yet$/m,
    /^gate: ok: accuracy 0\.935 \(run \w+\) against the baseline 0\.94 \(run \w+\), tolerance 0\.01 \(higher is better\)$/m,
    /^gate failed: regression: accuracy 0\.9 \(run \w+\) is worse than the baseline 0\.94 \(run \w+\) by 0\.04, beyond the tolerance 0\.01 \(higher is better\)$/m,
    /^wider gate: ok: accuracy 0\.9 /m
  ],
  'nested-contexts.ts': [
    'parent: {"global":"value"}',
    'fresh child: {"parent":"value"}',
    'nested grandchild: {"parent":"value","child":"value"}',
    'parent after the fresh child: {"global":"value"}',
    'params of that run (plus charmory-track.version): {"global":"value","chain":"clean"}',
    'child failed: task failed: the attack crashed',
    'parent after the failed child: {"global":"value"}'
  ]
}

const runExample = (file: string, armoryHome: string): Promise<{ code: number | null; stdout: string; stderr: string }> => {
  // The examples run as a user runs them, on the default sink, storing under a temporary
  // home, and unmeasured: tsx's transpiled code would corrupt the coverage of lib/. tap's
  // process tracker copies its settings into every child unless the child's env sets them.
  const env: NodeJS.ProcessEnv = { ...process.env, ARMORY_HOME: armoryHome, _TAPJS_PROCESSINFO_COVERAGE_: '0' }
  delete env['NODE_V8_COVERAGE']
  delete env['MLFLOW_TRACKING_URI']
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=charmory-track-source', join('examples', file)], {
    cwd: root,
    env
  })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s))
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s))
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

t.test('there are examples to run', async (t) => {
  t.ok(examples.includes('walkthrough.ts'))
  t.ok(examples.includes('nested-contexts.ts'))
})

for (const file of examples) {
  t.test(`examples/${file} runs and prints what it recorded`, async (t) => {
    const home = mkdtempSync(join(tmpdir(), 'charmory-example-'))
    t.teardown(() => rmSync(home, { recursive: true, force: true }))
    const { code, stdout, stderr } = await runExample(file, home)
    t.equal(code, 0, `exit code (stderr: ${stderr})`)
    t.match(stdout, /^run id: \S+$/m, 'prints the id of the run it recorded')
    for (const line of expected[file] ?? []) {
      if (typeof line === 'string') t.ok(stdout.split('\n').includes(line), line)
      else t.match(stdout, line)
    }
    if (file === 'walkthrough.ts') {
      // the default sink is the local store under $ARMORY_HOME: the printed run is there
      const runId = /^run id: (\S+)$/m.exec(stdout)?.[1] ?? ''
      const stored = await LocalStore.loadRun(join(home, 'mlruns'), runId)()
      t.match(stored, E.right({ status: 'FINISHED', paramValues: { 'loadModel.name': 'threshold-5', seed: '42' } }))
      t.match(stored, E.right({ metricHistories: { custom_metric: [{ value: 42 }] } }))
      const artifacts = E.isRight(stored) ? stored.right.artifacts.map((a) => a.path) : []
      t.strictSame(artifacts, ['notes/summary.txt', 'results.json'], 'the artifacts it printed')
    }
  })
}
