import t from 'tap'
import { VERSION } from 'charmory-track'
import { cli, usage } from '../../lib/cli/cli.js'
import { testIo } from '../support/local-cli.js'

t.test('help and version', async (t) => {
  for (const argv of [['--help'], ['-h'], ['help']]) {
    const io = testIo(t)
    t.equal(await cli(argv, io), 0)
    t.equal(io.out(), usage)
  }
  const io = testIo(t)
  t.equal(await cli(['--version'], io), 0)
  t.equal(io.out(), `${VERSION}\n`)
})

t.test('a missing or unknown command is a usage error on standard error', async (t) => {
  const none = testIo(t)
  t.equal(await cli([], none), 2)
  t.equal(none.err(), `charmory-track: a command is needed\n\n${usage}`)
  const unknown = testIo(t)
  t.equal(await cli(['serve'], unknown), 2)
  t.match(unknown.err(), /^charmory-track: unknown command "serve"\n/)
  t.equal(await cli(['toString'], testIo(t)), 2, 'only the commands themselves')
})

t.test('the command runs with the rest of the line; an unexpected exception is reported, not thrown', async (t) => {
  const io = testIo(t)
  t.equal(await cli(['runs', '--experiment', 'x'], io), 0)
  t.match(io.out(), /^no runs of experiment "x"/)
  const broken = { ...testIo(t), stdout: { write: () => { throw new Error('stdout is closed') } } }
  t.equal(await cli(['runs', '--help'], broken), 1)
  t.match(broken.err(), /^charmory-track runs: stdout is closed\n$/)
  const odd = { ...testIo(t), stdout: { write: () => { throw 'no' } } }
  t.equal(await cli(['runs', '--help'], odd), 1)
  t.match(odd.err(), /^charmory-track runs: no\n$/)
})
