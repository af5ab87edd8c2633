// tap's `before` script: opens the run's shared MLflow session (spec/support/shared-mlflow.ts).
import { openSession } from './shared-mlflow.js'

await openSession(process.ppid)
