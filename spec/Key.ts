import t from 'tap'
import * as E from 'fp-ts/lib/Either.js'
import { keyProblem, MAX_KEY_LENGTH, validateKey } from 'charmory-track'

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
    'x'.repeat(MAX_KEY_LENGTH)
  ]
  for (const key of good) {
    t.strictSame(validateKey(key), E.right(key), key)
    t.equal(keyProblem(key), undefined, key)
  }
})

t.test('keys MLflow refuses are an InvalidKey naming the key and the rule', async (t) => {
  const bad: ReadonlyArray<readonly [string, string]> = [
    ['', 'a key cannot be empty'],
    ['x'.repeat(MAX_KEY_LENGTH + 1), `longer than ${MAX_KEY_LENGTH} characters (${MAX_KEY_LENGTH + 1})`],
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
    t.strictSame(validateKey(key), E.left({ _tag: 'InvalidKey', key, reason }), JSON.stringify(key))
    t.equal(keyProblem(key), reason)
  }
})

t.test('MAX_KEY_LENGTH is MLflow limit of 250 characters', async (t) => {
  t.equal(MAX_KEY_LENGTH, 250)
})
