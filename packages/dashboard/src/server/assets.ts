import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const WEB = new URL('../../web/', import.meta.url)

/** The page's files, from this package and its uPlot dependency: nothing comes from the network. */
export interface Assets {
  html: string
  appJs: string
  styleCss: string
  uplotJs: string
  uplotCss: string
}

let loaded: Assets | undefined

export function loadAssets(): Assets {
  loaded ??= {
    html: readFileSync(new URL('index.html', WEB), 'utf8'),
    appJs: readFileSync(new URL('app.js', WEB), 'utf8'),
    styleCss: readFileSync(new URL('style.css', WEB), 'utf8'),
    uplotJs: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
    uplotCss: readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
  }
  return loaded
}
