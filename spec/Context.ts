import t from 'tap'
import { Context, Params } from 'charmory-track'

t.test('empty has no params; its bookkeeping is not part of the API', async (t) => {
  const c = Context.empty()
  t.strictSame(Params.toEntries(c.params), [])
  t.strictSame(Object.keys(c), ['params'], 'only params is a string key')
  t.equal(Object.getOwnPropertySymbols(c).length, 1, 'the rest sits under a symbol the package does not export')
  t.strictSame(Object.keys(Context), ['empty', 'fromParams'])
})

t.test('empty gives each context its own table: writing to one leaves another untouched', async (t) => {
  const a = Context.empty()
  const b = Context.empty()
  const a2 = Params.set('k', 'v')(a.params)
  t.strictSame(Params.toRecord(a2), { k: 'v' })
  t.strictSame(Params.toRecord(b.params), {})
  t.strictSame(Params.toRecord(a.params), {})
})

t.test('fromParams holds the given params', async (t) => {
  const params = Params.fromEntries([['x', '1'], ['y', '2']])
  const c = Context.fromParams(params)
  t.equal(c.params, params)
  t.strictSame(Object.keys(c), ['params'])
})
