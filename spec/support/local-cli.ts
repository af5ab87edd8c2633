// Helpers for the specs of the `charmory-track` command: an in-process IO that keeps what was
// written, and a folder holding a fake `mlflow` executable.
import { spawn } from 'node:child_process'
import { chmodSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { CliIo } from '../../lib/cli/io.js'
import { childEnv, root, tempDir } from './local-store.js'

export interface TestIo extends CliIo {
  readonly out: () => string
  readonly err: () => string
  /** Delivers a stop signal (as Ctrl+C would) to whoever listens. */
  readonly stop: () => void
  readonly listeners: () => number
}

export const testIo = (
  t: { teardown: (f: () => void) => void },
  env: Record<string, string | undefined> = {},
  options: { readonly tty?: boolean } = {}
): TestIo => {
  let out = ''
  let err = ''
  const handlers = new Set<() => void>()
  const home = tempDir(t, 'charmory-home-')
  return {
    env: { ...childEnv(), HOME: home, ARMORY_HOME: undefined, MLFLOW_TRACKING_URI: undefined, ...env },
    home,
    cwd: root,
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s), isTTY: options.tty === true, columns: 80 },
    fetch: undefined,
    spawn,
    onStop: (handler) => {
      handlers.add(handler)
      return () => void handlers.delete(handler)
    },
    out: () => out,
    err: () => err,
    stop: () => [...handlers].forEach((h) => h()),
    listeners: () => handlers.size
  }
}

/** A folder with an executable `mlflow` that runs spec/support/local-fake-mlflow.ts. */
export const fakeMlflowDir = (t: { teardown: (f: () => void) => void }): string => {
  const dir = tempDir(t, 'charmory-fake-mlflow-')
  const tsx = import.meta.resolve('tsx')
  const script = join(root, 'spec/support/local-fake-mlflow.ts')
  writeFileSync(join(dir, 'mlflow'), `#!/bin/sh\nexec "${process.execPath}" --import "${tsx}" "${script}" "$@"\n`)
  chmodSync(join(dir, 'mlflow'), 0o755)
  return dir
}
