import t from 'tap'
import { Errors } from 'charmory-track'
import { command } from '../../lib/cli/Command.js'
import { testIo } from '../support/local-cli.js'

const usage = 'Usage: charmory-track echo [--loud] [WORD...]\n'

const echo = (positionals: boolean) =>
  command({
    name: 'echo',
    usage,
    flags: { loud: { type: 'boolean' }, fail: { type: 'string' } },
    positionals,
    run: async ({ flags, positionals: words, usageError, failed }, io) => {
      if (flags.fail === 'usage') return usageError('no words today')
      if (flags.fail === 'error') return failed(Errors.notFound('run', 'r1'))
      if (flags.fail === 'throw') throw new Error('the disk is gone')
      io.stdout.write(`${flags.loud === true ? words.join(' ').toUpperCase() : words.join(' ')}\n`)
      return 0
    }
  })

t.test('--help and -h print the usage on standard output, whatever else is given', async (t) => {
  for (const argv of [['--help'], ['-h'], ['--loud', '-h', 'x']]) {
    const io = testIo(t)
    t.equal(await echo(true)(argv, io), 0)
    t.equal(io.out(), usage)
    t.equal(io.err(), '')
  }
})

t.test('flags and positionals reach the command; its answer is the exit code', async (t) => {
  const io = testIo(t)
  t.equal(await echo(true)(['--loud', 'hi', 'there'], io), 0)
  t.equal(io.out(), 'HI THERE\n')
})

t.test('a bad flag or a stray argument: the error and the usage on standard error, exit 2', async (t) => {
  const bad = testIo(t)
  t.equal(await echo(true)(['--nope'], bad), 2)
  t.match(bad.err(), /^charmory-track echo: Unknown option '--nope'.*\n\nUsage: charmory-track echo/s)
  const stray = testIo(t)
  t.equal(await echo(false)(['word'], stray), 2)
  t.equal(stray.err(), `charmory-track echo: unexpected argument "word"\n\n${usage}`, 'a command without positionals refuses one')
})

t.test('usage errors exit 2 with the usage, failures exit 1 with the error, exceptions exit 1 and are not thrown', async (t) => {
  const usageIo = testIo(t)
  t.equal(await echo(true)(['--fail', 'usage'], usageIo), 2)
  t.equal(usageIo.err(), `charmory-track echo: no words today\n\n${usage}`)
  const failedIo = testIo(t)
  t.equal(await echo(true)(['--fail', 'error'], failedIo), 1)
  t.equal(failedIo.err(), 'charmory-track echo: run "r1" not found\n')
  const thrown = testIo(t)
  t.equal(await echo(true)(['--fail', 'throw'], thrown), 1)
  t.equal(thrown.err(), 'charmory-track echo: the disk is gone\n')
  const closed = { ...testIo(t), stdout: { write: () => { throw 'stdout is closed' } } }
  t.equal(await echo(true)(['--help'], closed), 1, 'also when printing the help throws')
})

t.test('a pass-through command gets the raw arguments; only --help is its own (-h may be the next program\'s)', async (t) => {
  const seen: Array<ReadonlyArray<string>> = []
  const server = command({
    name: 'server',
    usage,
    flags: {},
    passThrough: true,
    run: async ({ positionals }) => {
      seen.push(positionals)
      return 0
    }
  })
  t.equal(await server(['-h', '0.0.0.0', '--port', '5001', '--workers', '2'], testIo(t)), 0)
  t.strictSame(seen, [['-h', '0.0.0.0', '--port', '5001', '--workers', '2']])
  const help = testIo(t)
  t.equal(await server(['--help'], help), 0)
  t.equal(help.out(), usage)
})
