/** Line and column lookups in one text: the line starts are found once, each lookup is a binary search. */
export interface LineIndex {
  /** 1-based line and column of a character offset. */
  locate(offset: number): { line: number; column: number }
}

export function lineIndex(text: string): LineIndex {
  const starts = [0]
  for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', nl + 1)) starts.push(nl + 1)
  return {
    locate(offset) {
      const at = Math.max(0, Math.min(offset, text.length))
      let lo = 0
      let hi = starts.length - 1
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1
        if (starts[mid]! <= at) lo = mid
        else hi = mid - 1
      }
      return { line: lo + 1, column: at - starts[lo]! + 1 }
    },
  }
}
