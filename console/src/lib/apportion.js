// The apportionment preview: the same largest-remainder rule as the server
// (backend/services/apportionment.py, docs/disclosures.md "Apportionment: the rounding rule"), in
// BigInt so that fen stay exact. The server computes the stored shares; this shows them before
// publishing.

/**
 * parts: [{id, label, area}] (area in 0.01 m²); method: by_area | equal. Returns
 * [{part_id, label, area, amount_fen}] adding up exactly to total_fen.
 */
export function largestRemainder(totalFen, parts, method) {
  if (!parts.length) return []
  const total = BigInt(totalFen)
  const weights = parts.map((p) => BigInt(method === 'equal' ? 1 : p.area))
  const sum = weights.reduce((a, b) => a + b, 0n)
  if (sum === 0n) throw new Error('权重之和为零')
  const rows = parts.map((p, i) => ({
    part: p, base: (total * weights[i]) / sum, rem: (total * weights[i]) % sum,
  }))
  let left = total - rows.reduce((a, r) => a + r.base, 0n)
  const order = rows.map((r, i) => i).sort((a, b) => {
    const d = rows[b].rem - rows[a].rem
    if (d !== 0n) return d > 0n ? 1 : -1
    return rows[a].part.id - rows[b].part.id // equal remainders: the lower part id first
  })
  const extra = new Set()
  for (const i of order) { if (left <= 0n) break; extra.add(i); left -= 1n }
  return rows.map((r, i) => ({
    part_id: r.part.id, label: r.part.label, area: r.part.area, amount_fen: Number(r.base + (extra.has(i) ? 1n : 0n)),
  }))
}

/** Parts in scope: not removed, optionally only some buildings, in registry (id) order. */
export function partsInScope(parts, buildings) {
  const set = buildings && buildings.length ? new Set(buildings) : null
  return parts.filter((p) => !set || set.has(p.building)).sort((a, b) => a.id - b.id)
}
