import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'

const require = createRequire(import.meta.url)
// The page's files, copied into dist/web by the build; found by the package's name, so the
// same from any bundled chunk.
const WEB = new URL('dist/web/', pathToFileURL(require.resolve('@dbops/dashboard/package.json')))

/** The report's script: the page's modules bundled into one classic script by the build. */
const REPORT_SCRIPT = 'report.iife.js'

/** The page's files, from this package and its uPlot dependency: nothing comes from the network. */
export interface Assets {
  html: string
  /** The page's ES modules by their path under /assets/ (`app.js`, `views/now.js`, ...). */
  modules: ReadonlyMap<string, string>
  /** The same modules as one script, for the self-contained report. */
  reportJs: string
  styleCss: string
  uplotJs: string
  uplotCss: string
}

/** Every .js file under dist/web but the report's bundle, by its path relative to it. */
function readModules(): Map<string, string> {
  const modules = new Map<string, string>()
  const files = readdirSync(WEB, { recursive: true, encoding: 'utf8' })
  for (const file of files.map((f) => f.split('\\').join('/')).sort()) {
    if (!file.endsWith('.js') || file === REPORT_SCRIPT) continue
    modules.set(file, readFileSync(new URL(file, WEB), 'utf8'))
  }
  return modules
}

let loaded: Assets | undefined

export function loadAssets(): Assets {
  loaded ??= {
    html: readFileSync(new URL('index.html', WEB), 'utf8'),
    modules: readModules(),
    reportJs: readFileSync(new URL(REPORT_SCRIPT, WEB), 'utf8'),
    styleCss: readFileSync(new URL('style.css', WEB), 'utf8'),
    uplotJs: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
    uplotCss: readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
  }
  return loaded
}
