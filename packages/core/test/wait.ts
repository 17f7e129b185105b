/** Polls until `check` holds (the condition, never a fixed sleep); fails after 20 s. */
export async function waitFor(what: string, check: () => Promise<boolean>): Promise<void> {
  const until = Date.now() + 20_000
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}
