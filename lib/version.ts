/**
 * The version of this library.
 *
 * @since 0.1.0
 */

/**
 * This library's version, logged as the param `charmory-track.version` on every run
 * (a spec keeps it equal to package.json's).
 * @category constants
 * @since 0.1.0
 */
export const VERSION = '0.1.0'
