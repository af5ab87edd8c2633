/**
 * MLflow's wire codecs: every answer of the REST endpoints the MLflow sink uses, as io-ts
 * codecs. Empty fields are omitted by the server, so arrays are optional and read as empty;
 * int64 fields are accepted as numbers or decimal strings; metric values as numbers or the
 * protobuf-JSON words `NaN`, `Infinity`, `-Infinity` (`MetricValue`, shared with the local store).
 *
 * @since 0.3.0
 */
import * as t from 'io-ts/lib/index.js'
import { MetricValue, RunStatusCodec } from '../Records.js'

// -------------------------------------------------------------------------------------
// codecs
// -------------------------------------------------------------------------------------

/**
 * Decodes an int64 field (a timestamp, a step), which protobuf JSON may write as a number or
 * as decimal text.
 * @category codecs
 * @since 0.1.0
 */
export const Int64 = new t.Type<number, number, unknown>(
  'int64',
  (u): u is number => typeof u === 'number',
  (u, c) => {
    const n = typeof u === 'string' && /^-?\d+$/.test(u) ? Number(u) : u
    return typeof n === 'number' && Number.isInteger(n) ? t.success(n) : t.failure(u, c)
  },
  (n) => n
)

/**
 * Decodes a param or a tag as the server writes it: `{ key, value }`.
 * @category codecs
 * @since 0.1.0
 */
export const KeyValue = t.type({ key: t.string, value: t.string })

/**
 * Decodes one metric point as the server writes it; a left-out `step` means step 0.
 * @category codecs
 * @since 0.1.0
 */
export const MetricCodec = t.intersection([
  t.type({ key: t.string, value: MetricValue, timestamp: Int64 }),
  t.partial({ step: Int64 })
])

/**
 * Decodes a run's `info`: its id, experiment, status, name, artifact location and times.
 * @category codecs
 * @since 0.1.0
 */
export const RunInfo = t.intersection([
  t.type({ run_id: t.string, experiment_id: t.string, status: RunStatusCodec }),
  t.partial({
    run_name: t.string,
    artifact_uri: t.string,
    start_time: Int64,
    end_time: Int64,
    lifecycle_stage: t.string,
    user_id: t.string
  })
])

/**
 * Decodes a run's `data`: its params, latest metric values and tags; the server leaves empty
 * arrays out.
 * @category codecs
 * @since 0.1.0
 */
export const RunData = t.partial({ params: t.array(KeyValue), metrics: t.array(MetricCodec), tags: t.array(KeyValue) })

/**
 * Decodes a whole run (`info` and `data`) as `runs/get` answers it.
 * @category codecs
 * @since 0.1.0
 */
export const Run = t.type({ info: RunInfo, data: RunData })

/**
 * Decodes `experiments/get-by-name`: the experiment's id and name.
 * @category codecs
 * @since 0.3.0
 */
export const ExperimentAnswer = t.type({ experiment: t.type({ experiment_id: t.string, name: t.string }) })

/**
 * Decodes `experiments/create`: the new experiment's id.
 * @category codecs
 * @since 0.3.0
 */
export const CreateExperimentAnswer = t.type({ experiment_id: t.string })

/**
 * Decodes `runs/create`: the new run's `info`.
 * @category codecs
 * @since 0.3.0
 */
export const RunAnswer = t.type({ run: t.type({ info: RunInfo }) })

/**
 * Decodes `runs/get`: the whole run.
 * @category codecs
 * @since 0.3.0
 */
export const GetRunAnswer = t.type({ run: Run })

/**
 * Decodes an answer whose content does not matter (`{}` from `runs/log-batch`, `runs/update`).
 * @category codecs
 * @since 0.3.0
 */
export const Empty = t.UnknownRecord

/**
 * Decodes a page of `metrics/get-history`.
 * @category codecs
 * @since 0.3.0
 */
export const HistoryAnswer = t.partial({ metrics: t.array(MetricCodec), next_page_token: t.string })

/**
 * Decodes a page of `artifacts/list`: files and folders of one folder of a run's artifacts.
 * @category codecs
 * @since 0.2.0
 */
export const ListArtifactsAnswer = t.partial({
  files: t.array(t.intersection([t.type({ path: t.string }), t.partial({ is_dir: t.boolean, file_size: t.union([t.number, t.string]) })])),
  next_page_token: t.string
})

/**
 * Decodes a `runs/search` answer: a page of runs and the next page's token; the server leaves
 * out an empty list and the last page's token.
 * @category codecs
 * @since 0.2.0
 */
export const SearchRunsAnswer = t.partial({ runs: t.array(Run), next_page_token: t.string })

/**
 * Decodes an experiment as `experiments/search` answers it: its id, name, times and tags.
 * @category codecs
 * @since 0.2.0
 */
export const Experiment = t.intersection([
  t.type({ experiment_id: t.string, name: t.string }),
  t.partial({ creation_time: Int64, last_update_time: Int64, tags: t.array(KeyValue), lifecycle_stage: t.string })
])

/**
 * Decodes an `experiments/search` answer: a page of experiments and the next page's token.
 * @category codecs
 * @since 0.2.0
 */
export const SearchExperimentsAnswer = t.partial({ experiments: t.array(Experiment), next_page_token: t.string })

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * A run's `info`, decoded by the codec `RunInfo`.
 * @category model
 * @since 0.1.0
 */
export type RunInfo = t.TypeOf<typeof RunInfo>
/**
 * A whole run, decoded by the codec `Run`.
 * @category model
 * @since 0.1.0
 */
export type Run = t.TypeOf<typeof Run>
/**
 * An experiment as the server describes it, decoded by the codec `Experiment`.
 * @category model
 * @since 0.2.0
 */
export type Experiment = t.TypeOf<typeof Experiment>
