import t from 'tap'
import fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { Key } from 'charmory-track'

t.test('keys MLflow accepts are kept as they are', async (t) => {
  const good = [
    'lr',
    'load_model.optimizer.lr',
    'chain/metric/0',
    'with space',
    'time:utc',
    'dash-ed',
    'a..b', // only a whole ".." path segment is refused
    'a/.b/c.',
    '.hidden',
    'modèle.taille', // Unicode letters, as Python's \w allows
    'データ.サイズ',
    '٣', // Unicode digits
    'x'.repeat(Key.MAX_KEY_LENGTH)
  ]
  for (const key of good) {
    t.strictSame(Key.validateKey(key), E.right(key), key)
    t.equal(Key.keyProblem(key), undefined, key)
  }
})

t.test('keys MLflow refuses are an InvalidKey naming the key and the rule', async (t) => {
  const bad: ReadonlyArray<readonly [string, string]> = [
    ['', 'a key cannot be empty'],
    ['x'.repeat(Key.MAX_KEY_LENGTH + 1), `longer than ${Key.MAX_KEY_LENGTH} characters (${Key.MAX_KEY_LENGTH + 1})`],
    ['a,b', 'only letters, digits, "_", "-", ".", "/", " " and ":" are allowed'],
    ['emoji🙂', 'only letters, digits, "_", "-", ".", "/", " " and ":" are allowed'],
    ['tab\there', 'only letters, digits, "_", "-", ".", "/", " " and ":" are allowed'],
    ['/a', 'a key cannot start or end with "/" or contain "//"'],
    ['a/', 'a key cannot start or end with "/" or contain "//"'],
    ['a//b', 'a key cannot start or end with "/" or contain "//"'],
    ['a/./b', 'a key cannot contain a "." or ".." path segment'],
    ['a/../b', 'a key cannot contain a "." or ".." path segment'],
    ['..', 'a key cannot contain a "." or ".." path segment']
  ]
  for (const [key, reason] of bad) {
    t.strictSame(Key.validateKey(key), E.left({ _tag: 'InvalidKey', key, reason }), JSON.stringify(key))
    t.equal(Key.keyProblem(key), reason)
  }
})

t.test('MAX_KEY_LENGTH is MLflow limit of 250 characters', async (t) => {
  t.equal(Key.MAX_KEY_LENGTH, 250)
})

t.test('the check agrees with the rule as MLflow states it, on any string', async (t) => {
  // The rule written plainly: the allowed characters (Unicode letters and digits among them),
  // then no empty, "." or ".." segment between slashes. Key.keyProblem checks the same without
  // a regex for ASCII keys and without splitting.
  const rule = (key: string): string | undefined => {
    if (key.length === 0) return 'a key cannot be empty'
    if (key.length > Key.MAX_KEY_LENGTH) return `longer than ${Key.MAX_KEY_LENGTH} characters (${key.length})`
    if (!/^[/\p{L}\p{N}_.\- :]*$/u.test(key)) return 'only letters, digits, "_", "-", ".", "/", " " and ":" are allowed'
    for (const segment of key.split('/')) {
      if (segment === '') return 'a key cannot start or end with "/" or contain "//"'
      if (segment === '.' || segment === '..') return 'a key cannot contain a "." or ".." path segment'
    }
    return undefined
  }
  const char = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom('a', 'Z', '0', '9', '_', '.', '-', ' ', ':', '/', '.', '/') },
    { weight: 1, arbitrary: fc.constantFrom('é', 'デ', '٣', '@', '[', '`', '{', ',', '\t', '🙂', 'K') },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) }
  )
  const agrees = fc.property(fc.array(char, { maxLength: 12 }), (chars) => Key.keyProblem(chars.join('')) === rule(chars.join('')))
  t.doesNotThrow(() => fc.assert(agrees, { numRuns: 2000 }))
})
