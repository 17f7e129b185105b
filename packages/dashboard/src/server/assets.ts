import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'

const require = createRequire(import.meta.url)
// The page's files, copied into dist/web by the build; found by the package's name, so the
// same from any bundled chunk.
const WEB = new URL('dist/web/', pathToFileURL(require.resolve('@dbops/dashboard/package.json')))

/** The page's files, from this package and its uPlot dependency: nothing comes from the network. */
export interface Assets {
  html: string
  appJs: string
  styleCss: string
  uplotJs: string
  uplotCss: string
}

/** The page's script, in this order, joined into one function scope (no bundler, no module loader: it also runs inline in a report). */
export const ASSET_ORDER = ['lib.js', 'views.js', 'charts.js', 'main.js']

const SCRIPT_HEAD = `/*
 * The dbops dashboard page: one script for the served page (it fetches /api/...) and for the
 * self-contained report (its data is inline in #dbops-report). Plain DOM, text only through
 * textContent, uPlot for the charts. Routes live in the hash: #/, #/charts, #/backups,
 * #/backup/<destination>/<id>, #/runs, #/run/<id>, #/migrations.
 */`

let loaded: Assets | undefined

export function loadAssets(): Assets {
  loaded ??= {
    html: readFileSync(new URL('index.html', WEB), 'utf8'),
    appJs: `${SCRIPT_HEAD}\n;(function () {\n'use strict'\n${ASSET_ORDER.map((f) => readFileSync(new URL(f, WEB), 'utf8')).join('\n')}\n})()\n`,
    styleCss: readFileSync(new URL('style.css', WEB), 'utf8'),
    uplotJs: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
    uplotCss: readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
  }
  return loaded
}
