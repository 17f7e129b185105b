/** SQLSTATE of a failed statement, if it has one. */
export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown })?.code
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined
}

/** Lock not available, deadlock, statement timeout or a cancel from outside: worth another try later. */
export const RETRYABLE = new Set(['55P03', '40P01', '57014'])
