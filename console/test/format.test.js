import { describe, expect, it } from 'vitest'
import { area, beijing, beijingToUtc, duration, label, parseYuan, percent, rate, yuan } from '../src/lib/format.js'
import { buildQuery } from '../src/lib/query.js'

describe('money and area are integers end to end', () => {
  it('formats fen as yuan without floats', () => {
    expect(yuan(0)).toBe('0.00')
    expect(yuan(5)).toBe('0.05')
    expect(yuan(123456789)).toBe('1,234,567.89')
    expect(yuan(-1050)).toBe('-10.50')
    expect(yuan(Number.MAX_SAFE_INTEGER)).toBe('90,071,992,547,409.91')
    expect(yuan(null)).toBe('—')
  })
  it('parses yuan into exact fen', () => {
    expect(parseYuan('0.1')).toBe(10)
    expect(parseYuan('1,234.56')).toBe(123456)
    expect(parseYuan(' 12 ')).toBe(1200)
    expect(parseYuan('¥2.35元')).toBe(235)
    // 0.29 * 100 is 28.999999999999996 in floating point: parsing must not go through floats
    expect(parseYuan('0.29')).toBe(29)
    for (const bad of ['', '1.234', '-1', 'abc', '1e3', '1.2.3']) expect(parseYuan(bad)).toBeNull()
    expect(parseYuan('99999999999999999')).toBeNull()
  })
  it('formats area in 0.01 m²', () => {
    expect(area(8950)).toBe('89.50 m²')
    expect(area(5)).toBe('0.05 m²')
  })
})

describe('times are shown in Beijing time', () => {
  it('converts UTC to UTC+8 and back', () => {
    expect(beijing('2026-03-01T16:30:00Z')).toBe('2026-03-02 00:30')
    expect(beijing('2026-03-01T16:30:05Z', true)).toBe('2026-03-02 00:30:05')
    expect(beijingToUtc('2026-03-02 00:30')).toBe('2026-03-01T16:30:00Z')
    expect(beijingToUtc('2026-03-02 00:30:07')).toBe('2026-03-01T16:30:07Z')
    expect(beijingToUtc('not a time')).toBeNull()
    expect(beijing(null)).toBe('—')
  })
})

describe('figures', () => {
  it('percent rounds half up on integers', () => {
    expect(percent(2, 3)).toBe('66.7%')
    expect(percent(1, 8)).toBe('12.5%')
    expect(percent(0, 0)).toBe('—')
    expect(rate(0.9545)).toBe('95.5%')
    expect(rate(null)).toBe('—')
  })
  it('durations', () => {
    expect(duration(59)).toBe('0 分')
    expect(duration(3 * 3600 + 5 * 60)).toBe('3 小时 5 分')
    expect(duration(2 * 86400 + 3600)).toBe('2 天 1 小时')
  })
  it('labels fall back to the code', () => {
    expect(label('ticketStatus', 'in_progress')).toBe('处理中')
    expect(label('subject', 'unknown')).toBe('unknown')
  })
  it('an empty filter is no filter', () => {
    expect(buildQuery({ a: 1, b: '', c: null, d: undefined, e: 'x y' })).toBe('?a=1&e=x+y')
    expect(buildQuery({})).toBe('')
  })
})
