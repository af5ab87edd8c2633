import t from 'tap'
import * as O from 'fp-ts/lib/Option.js'
import { Context, Params } from 'charmory-track'

t.test('empty has no params and no run', async (t) => {
  const c = Context.empty()
  t.strictSame(Params.toEntries(c.params), [])
  t.equal(c.prefixes.size, 0)
  t.ok(O.isNone(c.run))
})

t.test('empty gives each context its own table: writing to one leaves another untouched', async (t) => {
  const a = Context.empty()
  const b = Context.empty()
  const a2 = Params.set('k', 'v')(a.params)
  t.strictSame(Params.toRecord(a2), { k: 'v' })
  t.strictSame(Params.toRecord(b.params), {})
  t.strictSame(Params.toRecord(a.params), {})
})

t.test('fromParams holds the given params outside any run', async (t) => {
  const params = Params.fromEntries([['x', '1'], ['y', '2']])
  const c = Context.fromParams(params)
  t.equal(c.params, params)
  t.equal(c.prefixes.size, 0, 'no wrapped call recorded these')
  t.ok(O.isNone(c.run))
})
