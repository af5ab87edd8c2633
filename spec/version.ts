import t from 'tap'
import { readFileSync } from 'node:fs'
import { VERSION } from 'charmory-track'

t.test('VERSION is the version in package.json', async (t) => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
  t.equal(VERSION, pkg.version)
})
