import { describe, expect, it } from 'vitest'
import {
  Keyset, chinaDate, defaultQuorum, dlabel, isoWeek, lastWeek, mayManageWitness, pointsLost, previousQuarter,
  quarterOf, refusalRows, score,
} from '../src/lib/district.js'

describe('China dates, ISO weeks and quarters', () => {
  it('takes the China date of a UTC moment (UTC+8, no daylight saving)', () => {
    expect(chinaDate(Date.UTC(2026, 10, 26, 16, 0))).toBe('2026-11-27')
    expect(chinaDate(Date.UTC(2026, 10, 26, 15, 59))).toBe('2026-11-26')
  })
  it('numbers ISO weeks, the Thursday deciding the year', () => {
    expect(isoWeek('2026-11-17')).toBe('2026-W47')
    expect(isoWeek('2026-11-23')).toBe('2026-W48') // a Monday
    expect(isoWeek('2026-11-22')).toBe('2026-W47') // the Sunday before
    expect(isoWeek('2021-01-03')).toBe('2020-W53')
    expect(isoWeek('2024-12-30')).toBe('2025-W01')
  })
  it('the roll-up week is the last whole week', () => {
    expect(lastWeek('2026-11-27')).toBe('2026-W47')
    expect(lastWeek('2026-01-01')).toBe('2025-W52')
  })
  it('quarters', () => {
    expect(quarterOf('2026-11-27')).toBe('2026-Q4')
    expect(quarterOf('2026-03-31')).toBe('2026-Q1')
    expect(previousQuarter('2026-Q1')).toBe('2025-Q4')
    expect(previousQuarter('2026-Q4')).toBe('2026-Q3')
  })
})

describe('figures', () => {
  it('scores in hundredths without floats', () => {
    expect(score(8927)).toBe('89.27')
    expect(score(10000)).toBe('100.00')
    expect(score(5)).toBe('0.05')
    expect(score(null)).toBe('—')
  })
  it('points lost are the failed items\' points', () => {
    expect(pointsLost([{ passed: true, points: 5 }, { passed: false, points: 3 }, { passed: false, points: '2' }])).toBe(5)
    expect(pointsLost([])).toBe(0)
  })
})

describe('hotline refusals', () => {
  it('are sorted by row with Chinese reasons', () => {
    const rows = refusalRows({ refused: [{ row: 4, order_no: 'B', reason: 'no_match' }, { row: 2, order_no: '', reason: 'time' }] })
    expect(rows.map((r) => r.row)).toEqual([2, 4])
    expect(rows[1].text).toBe('地址未能匹配到任何小区')
    expect(rows[0].text).toContain('受理时间')
    expect(dlabel('refusal', 'something_new')).toBe('something_new')
  })
})

describe('keyset paging', () => {
  it('walks forward by next_after and back by the ids it came from', () => {
    const k = new Keyset()
    expect([k.after, k.page, k.hasPrev, k.hasNext]).toEqual([null, 1, false, false])
    k.seen({ items: [], next_after: 50 })
    expect(k.hasNext).toBe(true)
    k.forward()
    expect([k.after, k.page]).toEqual([50, 2])
    k.seen({ next_after: null })
    expect(k.hasNext).toBe(false)
    k.forward()
    expect(k.page).toBe(2)
    k.back()
    expect([k.after, k.page, k.hasPrev]).toEqual([null, 1, false])
  })
})

describe('witnesses', () => {
  it('default quorum: the official witnesses, at least one when any exists', () => {
    expect(defaultQuorum([])).toBe(0)
    expect(defaultQuorum([{ kind: 'committee_member' }])).toBe(1)
    expect(defaultQuorum([{ kind: 'street_office' }, { kind: 'residents_committee' }, { kind: 'committee_member' }])).toBe(2)
    expect(defaultQuorum([{ kind: 'street_office', retired_at: '2026-01-01T00:00:00Z' }, { kind: 'committee_member' }])).toBe(1)
  })
  it('the committee manages only its members\' keys', () => {
    expect(mayManageWitness('committee_member', { committee: true })).toBe(true)
    expect(mayManageWitness('street_office', { committee: true })).toBe(false)
    expect(mayManageWitness('street_office', { admin: true })).toBe(true)
    expect(mayManageWitness('committee_member', {})).toBe(false)
  })
})
