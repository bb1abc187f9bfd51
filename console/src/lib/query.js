/** "?a=1&b=x" from an object, leaving out undefined, null and '' (so an empty filter is no filter). */
export function buildQuery(query) {
  if (!query) return ''
  const params = new URLSearchParams()
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === '') continue
    params.append(k, String(v))
  }
  const s = params.toString()
  return s ? '?' + s : ''
}
