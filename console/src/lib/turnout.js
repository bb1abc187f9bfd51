// The live turnout against the legal thresholds (Civil Code art. 278: two thirds of the area and of the
// heads must take part), as the console's gauges show it.

/** {area, heads}: percentages (0–100, one decimal) of the roll that has voted, and the quorum line. */
export function gauges(t) {
  const pct = (part, whole) => (whole ? Math.floor((part * 1000) / whole) / 10 : 0)
  return {
    area: { value: pct(t.voted_area, t.area), reached: 3 * t.voted_area >= 2 * t.area && t.area > 0 },
    heads: { value: pct(t.voted_heads, t.heads), reached: 3 * t.voted_heads >= 2 * t.heads && t.heads > 0 },
    line: 66.7,
  }
}

/** What is still missing for quorum: area in 0.01 m² and heads (0 when met). */
export function missing(t) {
  return { area: Math.max(0, t.quorum_area - t.voted_area), heads: Math.max(0, t.quorum_heads - t.voted_heads) }
}
