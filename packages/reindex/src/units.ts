import { z } from 'zod'

const BYTE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1024,
  mb: 1024 ** 2,
  gb: 1024 ** 3,
  tb: 1024 ** 4,
}

/** `10MB`, `512kB`, `1.5GB`, or a number of bytes. Units are powers of 1024, as in PostgreSQL. */
export function parseBytes(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|tb)?$/i.exec(text.trim())
  if (!match)
    throw new Error(`'${text}' is not a size (use a number with a unit: 512kB, 10MB, 2GB)`)
  return Math.round(Number(match[1]) * BYTE_UNITS[(match[2] ?? 'b').toLowerCase()]!)
}

/** A size option: a number of bytes or a string with a unit. */
export const sizeSchema = z
  .union([z.number().nonnegative(), z.string()])
  .transform((value, ctx) => {
    if (typeof value === 'number') return value
    try {
      return parseBytes(value)
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message })
      return z.NEVER
    }
  })
