/**
 * One command of `charmory-track`, and what every command shares, in one place: `-h`/`--help`
 * (the usage on standard output, exit 0), a bad flag or a stray argument (the error and the
 * usage on standard error, exit 2), a usage error the command finds (`usageError`, exit 2), a
 * failure it reports (`failed`, exit 1), and an exception it did not expect (reported, exit 1).
 *
 * @since 0.3.0
 */
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { describeError, describeUnknown, type TrackError } from '../Errors.js'
import type { CliIo } from './io.js'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * The flags a command accepts, as `util.parseArgs` describes them.
 * @category model
 * @since 0.1.0
 */
export type FlagsConfig = NonNullable<ParseArgsConfig['options']>

/**
 * The values of parsed flags.
 * @category model
 * @since 0.1.0
 */
export type ParsedFlags<T extends FlagsConfig> = ReturnType<typeof parseArgs<{ options: T; strict: true; allowPositionals: false }>>['values']

/**
 * What a command is told: its flags, its positional arguments, and how to answer a usage error or a
 * failure with the right exit code.
 * @category model
 * @since 0.3.0
 */
export interface Invocation<T extends FlagsConfig> {
  readonly flags: ParsedFlags<T>
  readonly positionals: ReadonlyArray<string>
  /** Writes `charmory-track NAME: <message>` and the usage to standard error; yields 2. */
  readonly usageError: (message: string) => number
  /** Writes `charmory-track NAME: <the error>` to standard error; yields 1. */
  readonly failed: (e: TrackError) => number
}

/**
 * A command: its name, usage text, flags (`help` is added), whether it takes positional
 * arguments, and what it does. `passThrough` hands the raw arguments on (`server` gives them to
 * `mlflow server`): only `--help` is read then.
 * @category model
 * @since 0.3.0
 */
export interface CommandSpec<T extends FlagsConfig> {
  readonly name: string
  readonly usage: string
  readonly flags: T
  readonly positionals?: boolean
  readonly passThrough?: boolean
  readonly run: (invocation: Invocation<T>, io: CliIo) => Promise<number>
}

/**
 * A command as the dispatcher runs it: the arguments after its name, the process's I/O; the exit code.
 * @category model
 * @since 0.3.0
 */
export type Command = (argv: ReadonlyArray<string>, io: CliIo) => Promise<number>

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

const HELP = { help: { type: 'boolean', short: 'h' } } as const

/**
 * The command of `spec` (see the module's description).
 * @category constructors
 * @since 0.3.0
 */
export const command =
  <T extends FlagsConfig>(spec: CommandSpec<T>): Command =>
  async (argv, io) => {
    const say = (text: string): void => void io.stderr.write(`charmory-track ${spec.name}: ${text}\n`)
    const usageError = (message: string): number => {
      io.stderr.write(`charmory-track ${spec.name}: ${message}\n\n${spec.usage}`)
      return 2
    }
    const failed = (e: TrackError): number => {
      say(describeError(e))
      return 1
    }
    try {
      if (spec.passThrough === true) {
        // only the long form: the command it hands on may read -h (mlflow server's --host)
        if (!argv.includes('--help')) return await spec.run({ flags: {} as ParsedFlags<T>, positionals: argv, usageError, failed }, io)
        io.stdout.write(spec.usage)
        return 0
      }
      let parsed: { readonly values: ParsedFlags<T> & { readonly help?: boolean }; readonly positionals: ReadonlyArray<string> }
      try {
        parsed = parseArgs({ args: [...argv], options: { ...spec.flags, ...HELP }, strict: true, allowPositionals: true }) as typeof parsed
      } catch (e) {
        return usageError(describeUnknown(e))
      }
      if (parsed.values.help === true) {
        io.stdout.write(spec.usage)
        return 0
      }
      const [extra] = parsed.positionals
      if (spec.positionals !== true && extra !== undefined) return usageError(`unexpected argument ${JSON.stringify(extra)}`)
      return await spec.run({ flags: parsed.values, positionals: parsed.positionals, usageError, failed }, io)
    } catch (e) {
      say(describeUnknown(e))
      return 1
    }
  }
