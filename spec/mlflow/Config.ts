import t from 'tap'
import * as E from 'fp-ts/lib/Either.js'
import { Errors, Mlflow } from 'charmory-track'

const URI = { MLFLOW_TRACKING_URI: 'http://127.0.0.1:5000' }

t.test('defaults are MLflow Python client defaults', async (t) => {
  const c = Mlflow.configFromEnv(URI)
  t.match(c, {
    _tag: 'Right',
    right: {
      trackingUri: 'http://127.0.0.1:5000',
      auth: { _tag: 'None' },
      retry: Mlflow.defaultRetryPolicy,
      tls: { insecure: false, caCertPath: undefined, clientCertPath: undefined },
      experimentName: undefined
    }
  })
  t.strictSame(Mlflow.defaultRetryPolicy, {
    maxRetries: 7,
    backoffFactorMs: 2000,
    backoffJitterMs: 1000,
    maxBackoffMs: 120000,
    timeoutMs: 120000
  })
  t.strictSame(Mlflow.configFor('https://mlflow.example.test/prefix/'), Mlflow.configFromEnv({ MLFLOW_TRACKING_URI: 'https://mlflow.example.test/prefix' }))
})

t.test('the tracking URI keeps a path prefix and drops a trailing slash', async (t) => {
  t.match(Mlflow.configFromEnv({ MLFLOW_TRACKING_URI: 'https://host:8443/mlflow/' }), { right: { trackingUri: 'https://host:8443/mlflow' } })
})

t.test('a missing, empty or unusable tracking URI names the variable', async (t) => {
  for (const vars of [{}, { MLFLOW_TRACKING_URI: '' }, { MLFLOW_TRACKING_URI: 'sqlite:///x.db' }, { MLFLOW_TRACKING_URI: 'not a uri' }]) {
    const c = Mlflow.configFromEnv(vars)
    t.match(c, { _tag: 'Left', left: { _tag: 'ConfigError', variable: 'MLFLOW_TRACKING_URI' } }, JSON.stringify(vars))
  }
})

t.test('credentials inside the URI are Basic auth, as the Python client reads them; the URI is kept without them', async (t) => {
  t.match(Mlflow.configFromEnv({ MLFLOW_TRACKING_URI: 'http://bob:hunter2@host:5000/p/' }), {
    right: { trackingUri: 'http://host:5000/p', auth: { _tag: 'Basic', username: 'bob', password: 'hunter2' } }
  })
  t.match(Mlflow.configFor('https://b%40b:p%3Aw%2F%zz@host'), { right: { trackingUri: 'https://host', auth: { username: 'b@b', password: '%2F%zz' } } },
    'percent-decoded; a malformed escape is kept as it is')
  t.match(Mlflow.configFor('https://bob:p%3Aw@host'), { right: { auth: { password: 'p:w' } } })
  t.match(
    Mlflow.configFromEnv({ MLFLOW_TRACKING_URI: 'http://bob:hunter2@host', MLFLOW_TRACKING_USERNAME: 'ada', MLFLOW_TRACKING_PASSWORD: 'pw' }),
    { right: { auth: { _tag: 'Basic', username: 'ada', password: 'pw' } } },
    'the variables win over the URI'
  )
  t.match(Mlflow.configFromEnv({ MLFLOW_TRACKING_URI: 'http://bob:hunter2@host', MLFLOW_TRACKING_TOKEN: 'tok' }), {
    right: { auth: { _tag: 'Basic', username: 'bob' } }
  }, "the URI's credentials win over a token, as requests applies them last")
  const userOnly = Mlflow.configFromEnv({ MLFLOW_TRACKING_URI: 'http://bob@host:5000' })
  t.match(userOnly, { left: { _tag: 'ConfigError', variable: 'MLFLOW_TRACKING_URI', message: /user name but no password/ } })
})

t.test('a bad address names where it came from, never echoing it', async (t) => {
  for (const uri of ['not a url', 'ftp://x', 'http://', 'ftp://bob:hunter2@x', 'bob:hunter2@host']) {
    const c = Mlflow.configFor(uri)
    t.match(c, { left: { _tag: 'ConfigError', variable: 'the address given to mlflowSink' } }, uri)
    t.notMatch(E.isLeft(c) ? Errors.describeError(c.left) : '', /hunter2/)
  }
  t.match(Mlflow.configFor('ftp://x', '--to'), { left: { variable: '--to', message: 'expected an http(s):// address, not a "ftp:" one' } })
})

t.test('retry variables are decoded; a bad value names the variable and is not echoed', async (t) => {
  const c = Mlflow.configFromEnv({
    ...URI,
    MLFLOW_HTTP_REQUEST_MAX_RETRIES: '3',
    MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR: '0.5',
    MLFLOW_HTTP_REQUEST_BACKOFF_JITTER: '0',
    MLFLOW_HTTP_REQUEST_TIMEOUT: '2.5'
  })
  t.match(c, { right: { retry: { maxRetries: 3, backoffFactorMs: 500, backoffJitterMs: 0, timeoutMs: 2500 } } })
  const bad: Array<[string, string]> = [
    ['MLFLOW_HTTP_REQUEST_MAX_RETRIES', 'many'],
    ['MLFLOW_HTTP_REQUEST_MAX_RETRIES', '-1'],
    ['MLFLOW_HTTP_REQUEST_MAX_RETRIES', '1.5'],
    ['MLFLOW_HTTP_REQUEST_MAX_RETRIES', ' '],
    ['MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR', '-2'],
    ['MLFLOW_HTTP_REQUEST_TIMEOUT', '0'],
    ['MLFLOW_HTTP_REQUEST_TIMEOUT', 'Infinity'],
    ['MLFLOW_TRACKING_INSECURE_TLS', 'yes']
  ]
  for (const [name, value] of bad) {
    const r = Mlflow.configFromEnv({ ...URI, [name]: value })
    t.match(r, { _tag: 'Left', left: { _tag: 'ConfigError', variable: name } }, `${name}=${value}`)
    t.notOk(E.isLeft(r) && Errors.describeError(r.left).includes(`"${value}"`))
  }
})

t.test('booleans read as MLflow reads them', async (t) => {
  for (const [v, expected] of [['true', true], ['TRUE', true], ['1', true], ['false', false], ['0', false], ['', false]] as const) {
    t.match(Mlflow.configFromEnv({ ...URI, MLFLOW_TRACKING_INSECURE_TLS: v }), { right: { tls: { insecure: expected } } }, v)
  }
})

t.test('skipping TLS checks and trusting a CA bundle conflict', async (t) => {
  const r = Mlflow.configFromEnv({ ...URI, MLFLOW_TRACKING_INSECURE_TLS: 'true', MLFLOW_TRACKING_SERVER_CERT_PATH: '/ca.pem' })
  t.match(r, { _tag: 'Left', left: { variable: 'MLFLOW_TRACKING_INSECURE_TLS', message: /MLFLOW_TRACKING_SERVER_CERT_PATH/ } })
  t.match(
    Mlflow.configFromEnv({ ...URI, MLFLOW_TRACKING_SERVER_CERT_PATH: '/ca.pem', MLFLOW_TRACKING_CLIENT_CERT_PATH: '/me.pem' }),
    { right: { tls: { insecure: false, caCertPath: '/ca.pem', clientCertPath: '/me.pem' } } }
  )
})

t.test('auth: Basic from the environment, Bearer, Basic wins over Bearer', async (t) => {
  t.match(Mlflow.configFromEnv({ ...URI, MLFLOW_TRACKING_USERNAME: 'u', MLFLOW_TRACKING_PASSWORD: 'p' }), {
    right: { auth: { _tag: 'Basic', username: 'u', password: 'p' } }
  })
  t.match(Mlflow.configFromEnv({ ...URI, MLFLOW_TRACKING_TOKEN: 'tok' }), { right: { auth: { _tag: 'Bearer', token: 'tok' } } })
  t.match(Mlflow.configFromEnv({ ...URI, MLFLOW_TRACKING_TOKEN: 'tok', MLFLOW_TRACKING_USERNAME: 'u', MLFLOW_TRACKING_PASSWORD: 'p' }), {
    right: { auth: { _tag: 'Basic' } }
  })
  t.match(Mlflow.configFromEnv({ ...URI, MLFLOW_TRACKING_USERNAME: 'u' }), { right: { auth: { _tag: 'None' } } }, 'a user without password is no auth')
})

t.test('the credentials file fills what the environment leaves out', async (t) => {
  const file = '[mlflow]\nmlflow_tracking_username = fileuser\nmlflow_tracking_password = filepass\n'
  t.match(Mlflow.configFromEnv(URI, { credentialsFile: file }), { right: { auth: { _tag: 'Basic', username: 'fileuser', password: 'filepass' } } })
  t.match(Mlflow.configFromEnv({ ...URI, MLFLOW_TRACKING_PASSWORD: 'envpass' }, { credentialsFile: file }), {
    right: { auth: { username: 'fileuser', password: 'envpass' } }
  })
  t.match(Mlflow.configFromEnv(URI, { credentialsFile: '# nothing here\n[other]\nx = 1\n' }), { right: { auth: { _tag: 'None' } } })
  t.match(Mlflow.configFromEnv(URI, { credentialsFile: '[mlflow]\nmlflow_tracking_username\n' }), {
    _tag: 'Left',
    left: { _tag: 'ConfigError', variable: '~/.mlflow/credentials' }
  })
})

t.test('MLFLOW_EXPERIMENT_NAME is kept', async (t) => {
  t.match(Mlflow.configFromEnv({ ...URI, MLFLOW_EXPERIMENT_NAME: 'exp' }), { right: { experimentName: 'exp' } })
})
