// tap's `before` script: opens the run's shared MLflow session (spec/support/shared-mlflow.ts),
// in a child process without coverage: tap measures these scripts and all they import.
import { execFileSync } from 'node:child_process'

const env: NodeJS.ProcessEnv = { ...process.env, _TAPJS_PROCESSINFO_COVERAGE_: '0' }
delete env['NODE_V8_COVERAGE']
delete env['NODE_OPTIONS']
const session = new URL('shared-mlflow.ts', import.meta.url).pathname
const args = ['--import', 'tsx', session, 'open', String(process.ppid)]
execFileSync(process.execPath, args, { stdio: 'inherit', env })
