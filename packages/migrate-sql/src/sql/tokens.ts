/**
 * The token stream of a SQL script for checksums, in plain JavaScript (no WebAssembly call
 * per file): comments and whitespace dropped, string literals ('…', E'…', U&'…', $tag$…$tag$),
 * quoted identifiers and every other token kept verbatim. Words (identifiers, keywords,
 * numbers) and runs of operator characters are single tokens, so `a->>b` and `a - >> b`
 * differ while `t(id int)` and `t ( id  int )` do not.
 */
export function sqlTokens(text: string): string[] {
  const tokens: string[] = []
  const n = text.length
  let i = 0
  while (i < n) {
    const c = text[i]!
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v') {
      i++
    } else if (c === '-' && text[i + 1] === '-') {
      const nl = text.indexOf('\n', i)
      i = nl === -1 ? n : nl + 1
    } else if (c === '/' && text[i + 1] === '*') {
      let depth = 0
      while (i < n) {
        if (text[i] === '/' && text[i + 1] === '*') (depth++, (i += 2))
        else if (text[i] === '*' && text[i + 1] === '/') {
          i += 2
          if (--depth === 0) break
        } else i++
      }
    } else if (c === "'" || ((c === 'E' || c === 'e') && text[i + 1] === "'")) {
      const start = i
      const backslashes = c !== "'"
      i += backslashes ? 2 : 1
      while (i < n) {
        if (backslashes && text[i] === '\\') i += 2
        else if (text[i] === "'") {
          if (text[i + 1] === "'") i += 2
          else {
            i++
            break
          }
        } else i++
      }
      tokens.push(text.slice(start, i))
    } else if (c === '"') {
      const start = i++
      while (i < n) {
        if (text[i] === '"') {
          if (text[i + 1] === '"') i += 2
          else {
            i++
            break
          }
        } else i++
      }
      tokens.push(text.slice(start, i))
    } else if (c === '$' && /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.test(text.slice(i, i + 64))) {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(text.slice(i, i + 64))![0]
      const end = text.indexOf(tag, i + tag.length)
      const stop = end === -1 ? n : end + tag.length
      tokens.push(text.slice(i, stop))
      i = stop
    } else if (isWord(c)) {
      const start = i
      while (i < n && isWord(text[i]!)) i++
      // U&'…' and U&"…": the prefix belongs to the literal
      tokens.push(text.slice(start, i))
    } else if (c === ':' && (text[i + 1] === ':' || text[i + 1] === '=')) {
      tokens.push(text.slice(i, i + 2))
      i += 2
    } else if (OPERATOR.includes(c)) {
      const start = i
      while (i < n && OPERATOR.includes(text[i]!) && !(text[i] === '-' && text[i + 1] === '-') && !(text[i] === '/' && text[i + 1] === '*')) i++
      tokens.push(text.slice(start, i))
    } else {
      tokens.push(c)
      i++
    }
  }
  return tokens
}

const OPERATOR = '+-*/<>=~!@#%^&|`?'

function isWord(c: string): boolean {
  const code = c.charCodeAt(0)
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || c === '_' || c === '$' || code > 127
}
