#!/usr/bin/env node
/**
 * The `charmory-track` executable (the package's `bin`): runs the command line of this process.
 *
 * @since 0.1.0
 */
import { cli } from './cli.js'
import { nodeIo } from './io.js'

process.exitCode = await cli(process.argv.slice(2), nodeIo())
