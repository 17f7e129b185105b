// The page in a real browser: Debian's Chromium driven by playwright-core (never a downloaded
// browser). The health table lists the checks, a failed backup shows as failed, the charts
// draw, a click on a backup set opens its page; then the HTML report, opened from file://
// with the network off, does the same. Screenshots go to .tmp/test-output/dashboard/.
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import {
  REPO_ROOT,
  makeProject,
  startDashboard,
  withScheduledRuns,
  type Project,
  type Server,
} from './project.ts'

// The functions passed to page.evaluate run in the page; the tests' own lib has no DOM types.
declare const document: any

const OUTPUT = path.join(REPO_ROOT, '.tmp', 'test-output', 'dashboard')
const CHROMIUM = '/usr/bin/chromium'
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
]

let project: Project
let server: Server
let browser: BrowserContext
let profile: string
let failedId: string

test.before(async () => {
  project = await makeProject('dashboard_ui', { s3: false })
  // A backup whose copy went bad: the checksum verification fails and is recorded as failed.
  const dir = path.join(project.dir, 'backups', project.db.name)
  failedId = (await readdir(dir))[0]!
  const dump = (await readdir(path.join(dir, failedId))).find((f) => f.startsWith('dump'))!
  await writeFile(path.join(dir, failedId, dump), 'not the dump any more')
  const verify = await project.cli(['backups', 'verify', failedId, '--level', 'checksum'])
  assert.is(verify.code, 1, verify.stdout + verify.stderr)
  // And a backup that never finished: a folder without a manifest.
  await mkdir(path.join(dir, '20260101T000000Z-dead'), { recursive: true })
  await writeFile(path.join(dir, '20260101T000000Z-dead', 'dump.pgdump.zst.age'), 'partial')
  await withScheduledRuns(project)
  await mkdir(OUTPUT, { recursive: true })
  server = await startDashboard(project, ['--refresh', '1'])
  profile = await mkdtemp(path.join(os.tmpdir(), 'dbops-chromium-'))
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1280, height: 900 },
  })
  browser.setDefaultTimeout(60_000)
})

test.after(async () => {
  await browser?.close()
  if (profile) await rm(profile, { recursive: true, force: true })
  await server?.stop()
  await project?.remove()
})

/** Opens a route and waits until the page drew it (it sets data-rendered after each render). */
async function open(page: Page, url: string): Promise<void> {
  const before = await page
    .evaluate(() => document.body?.getAttribute('data-rendered'))
    .catch(() => null)
  await page.goto(url)
  await page.waitForFunction((prev) => {
    const now = document.body.getAttribute('data-rendered')
    return now !== null && now !== prev
  }, before)
}

async function inkedCanvases(page: Page, selector: string): Promise<number> {
  return page.evaluate((sel) => {
    let inked = 0
    for (const canvas of Array.from(document.querySelectorAll(sel)) as any[]) {
      const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data
      for (let i = 3; i < data.length; i += 4) {
        if (data[i]! > 0) {
          inked++
          break
        }
      }
    }
    return inked
  }, selector)
}

async function checkPage(page: Page, base: string, label: string): Promise<void> {
  await open(page, base)
  // The health table lists the checks of the last run.
  const checks = await page.locator('#health-table tr.check').count()
  assert.ok(checks > 25, `${label}: ${checks} checks listed`)
  assert.is(
    await page.locator('#health-table tr[data-check="connection"] .pill').textContent(),
    'ok',
  )
  // The failed scheduled run is listed with its error.
  assert.match((await page.locator('tr.run-failed').first().textContent())!, /failed on purpose/)
  // The failed backup shows as failed; the unfinished one too.
  const last = page.locator('tr.last-backup', { hasText: 'local' })
  assert.match((await last.textContent())!, /FAILED \(checksum\)/)
  assert.match(
    (await page.locator('tr.incomplete').first().textContent())!,
    /20260101T000000Z-dead.*failed/,
  )
  assert.match(
    (await last.locator('.restore-proof').getAttribute('class'))!,
    /red/,
    'never restored: red',
  )
  await page.screenshot({ path: path.join(OUTPUT, `${label}-now.png`), fullPage: true })

  // A click on the backup set opens its page.
  await last.locator('a.set-link').click()
  await page.waitForSelector('#set-title')
  assert.is(await page.locator('#set-title').textContent(), `Backup set ${failedId}`)
  assert.match(page.url(), new RegExp(`#/backup/local/${failedId}$`))
  assert.match((await page.locator('tr.verification').first().textContent())!, /failed/)
  await page.screenshot({ path: path.join(OUTPUT, `${label}-set.png`), fullPage: true })

  // The charts draw.
  await open(page, `${base}#/charts`)
  await page.waitForSelector('.chart-health canvas')
  assert.ok(
    (await inkedCanvases(page, '.chart-health canvas')) > 10,
    `${label}: health charts drew`,
  )
  assert.ok(
    (await inkedCanvases(page, '.chart-backup canvas')) >= 1,
    `${label}: the backup chart drew`,
  )
  assert.ok(
    (await inkedCanvases(page, '.chart-runs canvas')) >= 2,
    `${label}: a run chart per schedule drew`,
  )
  assert.ok(
    (await inkedCanvases(page, '.chart-reindex canvas')) >= 1,
    `${label}: the reindex chart drew`,
  )
  await page.screenshot({ path: path.join(OUTPUT, `${label}-charts.png`), fullPage: true })
}

test('the served page: checks, a failed backup, a set page, charts', async () => {
  const page = await browser.newPage()
  const errors: string[] = []
  page.on('pageerror', (e) => errors.push(e.message))
  await checkPage(page, server.url, 'served')
  // The backups list marks the failed set too.
  await open(page, `${server.url}#/backups`)
  assert.match(
    (await page.locator('tr.set-failed').first().textContent())!,
    new RegExp(`${failedId}.*FAILED`),
  )
  assert.equal(errors, [])
  await page.close()
})

test('the page follows the server: a new health run appears without a reload', async () => {
  const page = await browser.newPage()
  await open(page, server.url)
  const before = await page.locator('#card-health').getAttribute('data-at')
  assert.ok(before)
  const r = await project.cli(['run', 'health'])
  assert.is(r.code, 0, r.stderr)
  // The server reads the new run and says so over its event stream; the page draws it.
  await page.waitForFunction((old) => {
    const at = document.querySelector('#card-health')?.getAttribute('data-at')
    return !!at && at !== old
  }, before)
  await page.close()
})

test('the HTML report from file:// with the network off: the same views, nothing fetched', async () => {
  const file = path.join(OUTPUT, 'report.html')
  const r = await project.cli(['report', '--html', file, '--since', '30d'])
  assert.is(r.code, 0, r.stdout + r.stderr)
  assert.match(r.stdout, /report written to .*report\.html/)
  const page = await browser.newPage()
  const requests: string[] = []
  await page.route('**/*', (route) => {
    const url = route.request().url()
    if (url.startsWith('file://')) return route.continue()
    requests.push(url)
    return route.abort()
  })
  await browser.setOffline(true)
  const errors: string[] = []
  page.on('pageerror', (e) => errors.push(e.message))
  try {
    await checkPage(page, pathToFileURL(file).href, 'report')
  } finally {
    await browser.setOffline(false)
  }
  assert.equal(requests, [], 'the report fetched nothing')
  assert.equal(errors, [])
  assert.match((await page.locator('.banner.report').textContent()) ?? '', /Report of/)
  await page.close()
})

test.run()
