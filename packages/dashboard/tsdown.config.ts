import { defineConfig } from 'tsdown'
import { packageBuild } from '../../tsdown.base.ts'

export default [
  // The entries are the package.json exports; the page's modules ship inside dist/web, as
  // they are: the served page loads them one by one from /assets/.
  packageBuild({}, { copy: [{ from: 'web/**/*', to: 'dist/web', flatten: false }] }),
  // The self-contained report cannot load modules (a file:// page, a CSP without 'self'):
  // the same modules bundled into one classic script it inlines.
  defineConfig({
    entry: { report: 'web/app.js' },
    format: 'iife',
    platform: 'browser',
    outDir: 'dist/web',
    // Strict as the modules are.
    outputOptions: { strict: true },
    clean: false,
    dts: false,
    sourcemap: false,
    report: false,
    logLevel: 'warn',
  }),
]
