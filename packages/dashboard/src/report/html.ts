import { loadAssets } from '../server/assets.ts'

// A file opened from disk or a mail attachment loads nothing from anywhere.
const REPORT_CSP =
  "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

/** JSON inside <script>: `<` escaped, so no string in the data can close the element. */
function inlineJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029')
}

function inlineScript(source: string): string {
  if (/<\/script/i.test(source)) throw new Error('a script to inline contains </script')
  return `<script>${source}</script>`
}

/** The dashboard page as one file: its styles, uPlot, the app and the data inline. */
export function renderReportHtml(
  data: Record<string, unknown>,
  meta: { title: string; generatedAt: string; since: string },
): string {
  const a = loadAssets()
  const head = `<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">\n<style>${a.uplotCss}\n${a.styleCss}</style>`
  const scripts = [
    `<script type="application/json" id="dbops-report">${inlineJson({ ...meta, data })}</script>`,
    inlineScript(a.uplotJs),
    inlineScript(a.reportJs),
  ].join('\n')
  return a.html
    .replace(/<title>[^<]*<\/title>/, () => `<title>${escapeHtml(meta.title)}</title>`)
    .replace(/<!--dbops:head-->[\s\S]*?<!--\/dbops:head-->/, () => head)
    .replace(/<!--dbops:scripts-->[\s\S]*?<!--\/dbops:scripts-->/, () => scripts)
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}
