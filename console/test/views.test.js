import { describe, expect, it } from 'vitest'
import { heatmap } from '../src/lib/heatmap.js'
import { districtHome, districtPagesFor, homeFor, pagesFor } from '../src/lib/roles.js'
import { timelineOf } from '../src/lib/tickets.js'
import { gauges, missing } from '../src/lib/turnout.js'

describe('turnout gauges against the two-thirds threshold', () => {
  it('reaches quorum at exactly two thirds of both area and heads', () => {
    const t = { area: 300, heads: 3, voted_area: 200, voted_heads: 2, quorum_area: 200, quorum_heads: 2 }
    const g = gauges(t)
    expect(g.area).toEqual({ value: 66.6, reached: true })
    expect(g.heads.reached).toBe(true)
    expect(missing(t)).toEqual({ area: 0, heads: 0 })
    const short = { ...t, voted_area: 199 }
    expect(gauges(short).area.reached).toBe(false)
    expect(missing(short)).toEqual({ area: 1, heads: 0 })
    expect(gauges({ area: 0, heads: 0, voted_area: 0, voted_heads: 0 }).area).toEqual({ value: 0, reached: false })
  })
})

describe('hot spots heat map', () => {
  it('lays complaints out by week and subject, summing communities', () => {
    const h = heatmap([
      { community_id: 1, subject: 'noise', week: '2026-W10', complaints: 3 },
      { community_id: 2, subject: 'noise', week: '2026-W10', complaints: 2 },
      { community_id: 1, subject: 'fire_lane', week: '2026-W09', complaints: 4 },
    ])
    expect(h.weeks).toEqual(['2026-W09', '2026-W10'])
    expect(h.subjects).toEqual(['消防通道', '噪声'])
    expect(h.data).toEqual(expect.arrayContaining([[1, 1, 5], [0, 0, 4]]))
    expect(h.max).toBe(5)
    expect(heatmap([], null).data).toEqual([])
  })
})

describe('pages per role', () => {
  it('shows each role its own work', () => {
    const names = (roles, admin = false) => pagesFor(roles, admin).map((p) => p.name)
    expect(names(['property_staff'])).toEqual(expect.arrayContaining(['tickets', 'disclosures', 'bindings']))
    expect(names(['property_staff'])).not.toContain('registry')
    expect(names(['regulator'])).toEqual(['votes', 'tickets', 'stats', 'inspections', 'disputes', 'contracts', 'witnesses'])
    expect(names(['property_staff'])).toEqual(expect.arrayContaining(['inspections', 'disputes', 'witnesses']))
    expect(names(['property_staff'])).not.toContain('contracts')
    expect(names(['committee'])).toContain('registry')
    expect(names(['resident', 'owner'])).toEqual([])
    expect(names([], true).length).toBe(14)
    expect(homeFor(['regulator'])).toBe('stats')
    expect(homeFor(['committee', 'property_staff'])).toBe('tickets')
    expect(homeFor(['owner'], false)).toBeNull()
  })
  it('gives the district pages to scoped regulators, streets and scopes to the admin only', () => {
    const names = (scoped, admin = false) => districtPagesFor(scoped, admin).map((p) => p.name)
    expect(names(false)).toEqual([])
    expect(names(true)).toEqual(['street', 'hotline', 'routine', 'organisations', 'open-disputes'])
    expect(names(false, true)).toContain('setup')
    expect(districtHome(true, false)).toBe('street')
    expect(districtHome(false, false)).toBeNull()
  })
})

describe('ticket timeline', () => {
  it('merges events and replies in order, a resolve reply shown once with its event', () => {
    const t = {
      events: [
        { id: 1, action: 'submitted', actor_role: 'reporter', created_at: '2026-03-01T00:00:00Z' },
        { id: 2, action: 'transition', actor_role: 'property_staff', from_status: 'submitted', to_status: 'accepted', created_at: '2026-03-01T01:00:00Z' },
        { id: 3, action: 'transition', actor_role: 'property_staff', from_status: 'in_progress', to_status: 'resolved', reply_id: 11, note: '已修好', created_at: '2026-03-01T03:00:00Z' },
      ],
      replies: [
        { id: 10, author_role: 'property_staff', body: '马上到', photos: [], created_at: '2026-03-01T02:00:00Z' },
        { id: 11, author_role: 'property_staff', body: '已修好', photos: [{ id: 5 }], created_at: '2026-03-01T03:00:00Z' },
      ],
    }
    const items = timelineOf(t)
    expect(items.map((i) => i.text)).toEqual([
      '居民提交了工单', '物业：已提交 → 已受理', '物业回复：马上到', '物业：处理中 → 已解决：已修好',
    ])
    expect(items[3].photos).toEqual([{ id: 5 }])
  })
})
