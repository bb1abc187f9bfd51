// Weekly hot spots (complaints per subject and ISO week) as the matrix an ECharts heat map draws.
import { label } from './format.js'

/** hot_spots [{subject, week, complaints}] → {weeks, subjects (labels), data [[weekIdx, subjectIdx, n]], max}. */
export function heatmap(hotSpots, communityId = null) {
  const spots = hotSpots.filter((s) => communityId === null || s.community_id === communityId)
  const weeks = [...new Set(spots.map((s) => s.week))].sort()
  const codes = [...new Set(spots.map((s) => s.subject))].sort()
  const sums = new Map()
  for (const s of spots) {
    const key = `${weeks.indexOf(s.week)}:${codes.indexOf(s.subject)}`
    sums.set(key, (sums.get(key) || 0) + s.complaints)
  }
  const data = [...sums.entries()].map(([k, n]) => [...k.split(':').map(Number), n])
  return { weeks, subjects: codes.map((c) => label('subject', c)), data, max: Math.max(1, ...data.map((d) => d[2])) }
}
