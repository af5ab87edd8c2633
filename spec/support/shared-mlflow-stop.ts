// tap's `after` script: stops the run's shared MLflow server.
import { closeSession } from './shared-mlflow.js'

await closeSession()
