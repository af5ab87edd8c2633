/**
 * The `charmory-track` command: `server`, `sync`, `runs`, `show`, `compare` and `gate` over the
 * local run store (or a server's runs).
 *
 * @since 0.1.0
 */
import { VERSION } from '../version.js'
import { compareCommand } from './compare.js'
import { gateCommand } from './gate.js'
import type { Command } from './Command.js'
import type { CliIo } from './io.js'
import { runsCommand } from './runs.js'
import { serverCommand } from './server.js'
import { showCommand } from './show.js'
import { syncCommand } from './sync.js'

/**
 * @category constants
 * @since 0.1.0
 */
export const usage = `Usage: charmory-track <command> [flags]

Runs tracked with charmory-track are kept in a local store ($ARMORY_HOME/mlruns, ARMORY_HOME
defaulting to ~/.armory) unless MLFLOW_TRACKING_URI names an MLflow server. These commands
bring them to MLflow:

  server [flags]           start \`mlflow server\` on 127.0.0.1:5000, sync the local runs into
                           it and print its address; Ctrl+C stops it
  sync [--to URI] [--dry-run]
                           push the local runs the server does not have yet
  runs [--experiment NAME] [--filter F] [--order-by KEY] [--max N] [--json] [--from URI]
                           list the local runs (or a server's), searched with MLflow's syntax
  show RUN_ID [--json] [--from URI]
                           one run: params, tags, metrics with their history, artifacts
  compare RUN_ID... | --experiment NAME [--filter F] [--markdown] [--json] [--from URI]
                           runs side by side: the params that differ, every metric, the best marked
  gate --metric NAME [--baseline best|RUN_ID] [--tolerance T] [--experiment NAME] [--from URI]
                           exit 1 with the reason when the newest run is worse than the baseline

Run \`charmory-track <command> --help\` for a command's flags.
  -h, --help               this help
  --version                the version of charmory-track
`

const commands: Readonly<Record<string, Command>> = {
  server: serverCommand,
  sync: syncCommand,
  runs: runsCommand,
  show: showCommand,
  compare: compareCommand,
  gate: gateCommand
}

/**
 * Runs the command line `argv` (without `node` and the script); yields the exit code. An
 * unexpected exception is reported on standard error, never thrown.
 * @category interpreters
 * @since 0.1.0
 */
export const cli = async (argv: ReadonlyArray<string>, io: CliIo): Promise<number> => {
  const [name = '', ...rest] = argv
  if (name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(usage)
    return 0
  }
  if (name === '--version') {
    io.stdout.write(`${VERSION}\n`)
    return 0
  }
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined
  if (command === undefined) {
    io.stderr.write(`${name === '' ? 'charmory-track: a command is needed' : `charmory-track: unknown command ${JSON.stringify(name)}`}\n\n${usage}`)
    return 2
  }
  // a command reports its own failures and exceptions (lib/cli/Command.ts)
  return command(rest, io)
}
