/**
 * An object of a set is a file directly inside the set's folder. Anything else in a
 * manifest (a `/`, a `\`, a `..`) would point reads and deletes at another set's objects,
 * so such a manifest is not trusted at all.
 */
export function objectNameProblem(name: string): string | undefined {
  if (name === '') return 'is empty'
  if (/[/\\]/.test(name)) return 'contains a path separator'
  if (name.includes('..')) return 'contains ".."'
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for
  if (/[\u0000-\u001f]/.test(name)) return 'contains a control character'
  return undefined
}
