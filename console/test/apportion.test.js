import { describe, expect, it } from 'vitest'
import { largestRemainder, partsInScope } from '../src/lib/apportion.js'

const parts = [
  { id: 3, label: '1-1-103', building: '1', area: 10000 },
  { id: 1, label: '1-1-101', building: '1', area: 10000 },
  { id: 2, label: '2-1-101', building: '2', area: 5000 },
]

describe('the apportionment preview follows the server (largest remainder)', () => {
  it('adds up exactly and gives leftovers to the largest remainders, ties to the lower id', () => {
    const shares = largestRemainder(100, partsInScope(parts), 'by_area')
    expect(shares.map((s) => [s.part_id, s.amount_fen])).toEqual([[1, 40], [2, 20], [3, 40]])
    const odd = largestRemainder(101, partsInScope(parts), 'by_area')
    // exact: 40.4, 20.2, 40.4 → floors 40, 20, 40; one fen left: the tie of .4 goes to id 1
    expect(odd.map((s) => s.amount_fen)).toEqual([41, 20, 40])
    expect(odd.reduce((a, s) => a + s.amount_fen, 0)).toBe(101)
  })
  it('equal splits ignore area; within one fen of the exact value', () => {
    const shares = largestRemainder(1000, partsInScope(parts), 'equal')
    expect(shares.map((s) => s.amount_fen)).toEqual([334, 333, 333])
  })
  it('is exact far beyond float precision', () => {
    const big = Number.MAX_SAFE_INTEGER - 1
    const shares = largestRemainder(big, partsInScope(parts), 'by_area')
    expect(shares.reduce((a, s) => a + BigInt(s.amount_fen), 0n)).toBe(BigInt(big))
  })
  it('a larger area never pays less', () => {
    const many = Array.from({ length: 50 }, (_, i) => ({ id: i + 1, label: `x${i}`, building: '1', area: 5000 + ((i * 7919) % 4000) }))
    const shares = largestRemainder(987654, many, 'by_area')
    for (const a of shares) for (const b of shares) if (a.area > b.area) expect(a.amount_fen).toBeGreaterThanOrEqual(b.amount_fen)
  })
  it('limits the scope to buildings', () => {
    expect(partsInScope(parts, ['2']).map((p) => p.id)).toEqual([2])
    expect(largestRemainder(5, [], 'equal')).toEqual([])
  })
})
