// The district's pages (streets, hotline, 421 inspections, integrity, mediation, witnesses): labels,
// China dates and ISO weeks, scores in hundredths, keyset paging. Plain logic, unit-tested by Vitest.

const CHINA_OFFSET_MS = 8 * 3600 * 1000

export const DISTRICT_LABELS = {
  refusal: {
    order_no: '缺少工单编号', time: '受理时间无法识别（应为 2026-11-17 09:30）', content: '缺少诉求内容',
    no_match: '地址未能匹配到任何小区', ambiguous: '地址同时匹配多个小区', out_of_scope: '小区不在您的监管范围内',
    duplicate: '同一文件中工单编号重复',
  },
  channel: { miniprogram: '小程序', 12345: '12345 热线', other: '其他渠道' },
  measureLevel: { rectification_notice: '整改通知书', interview: '约谈', credit_record: '信用记录', qualification_restriction: '资质限制建议' },
  measureStatus: { open: '待整改', answered: '已答复待审核', closed: '已办结' },
  inspectionKind: { inspection: '巡查', review: '现场复查' },
  addressee: { property: '物业企业', lift: '电梯维保单位' },
  organisationKind: { property_company: '物业企业', lift_contractor: '电梯维保单位' },
  service: { property: '物业服务', lift: '电梯维保' },
  disputeStatus: { open: '调处中', settled: '已调解', closed: '已终结' },
  disputeLevel: { 1: '业主委员会', 2: '社区人民调解委员会', 3: '镇街联席会议', 4: '区物业矛盾调处指导中心' },
  disputeAction: { filed: '立案', session: '调解', settled: '达成协议', failed: '调解不成', taken_up: '上一级受理' },
  outcome: { session: '开展调解（未结）', settled: '达成协议（附协议书）', failed: '调解不成' },
  component: {
    resolution: '有效投诉解决', first_response: '及时响应', resolution_time: '按时办结', satisfaction: '满意度',
    reopen: '未重开', inspections: '巡查扣分', measures: '整改逾期', disclosures: '信息公开',
  },
  witnessKind: { street_office: '街道办', residents_committee: '居委会', committee_member: '业委会委员' },
  list: { red: '红榜', black: '黑榜' },
}

export function dlabel(kind, code) {
  const table = DISTRICT_LABELS[kind]
  return (table && table[code]) || (code === null || code === undefined ? '—' : String(code))
}

/** A hotline import's refused rows as [{row, order_no, reason, text}] sorted by row number. */
export function refusalRows(report) {
  return [...((report && report.refused) || [])]
    .sort((a, b) => a.row - b.row)
    .map((r) => ({ ...r, text: dlabel('refusal', r.reason) }))
}

/** The China calendar date (YYYY-MM-DD) of a moment (a Date or ms). */
export function chinaDate(at = Date.now()) {
  return new Date(new Date(at).getTime() + CHINA_OFFSET_MS).toISOString().slice(0, 10)
}

/** "2026-11" of a China date "2026-11-27". */
export function monthOf(date) { return String(date).slice(0, 7) }

/** The ISO week "2026-W48" holding the China date "YYYY-MM-DD". */
export function isoWeek(date) {
  const [y, m, d] = String(date).split('-').map(Number)
  const day = new Date(Date.UTC(y, m - 1, d))
  const weekday = day.getUTCDay() || 7 // Monday 1 … Sunday 7
  day.setUTCDate(day.getUTCDate() + 4 - weekday) // the Thursday of that week decides the year
  const year = day.getUTCFullYear()
  const week = Math.floor((day - Date.UTC(year, 0, 1)) / 86400000 / 7) + 1
  return `${year}-W${String(week).padStart(2, '0')}`
}

/** The last whole ISO week before the one holding the China date (what the Monday roll-up counts). */
export function lastWeek(date) {
  const [y, m, d] = String(date).split('-').map(Number)
  return isoWeek(new Date(Date.UTC(y, m - 1, d) - 7 * 86400000).toISOString().slice(0, 10))
}

/** The quarter "2026-Q4" of a China date, and the one before it. */
export function quarterOf(date) {
  const [y, m] = String(date).split('-').map(Number)
  return `${y}-Q${Math.floor((m - 1) / 3) + 1}`
}

export function previousQuarter(period) {
  const [y, q] = period.split('-Q').map(Number)
  return q === 1 ? `${y - 1}-Q4` : `${y}-Q${q - 1}`
}

/** A score in hundredths of a point (0–10000) as "89.27"; integers only. */
export function score(hundredths) {
  if (hundredths === null || hundredths === undefined) return '—'
  const n = Math.trunc(hundredths)
  return `${Math.trunc(n / 100)}.${String(Math.abs(n % 100)).padStart(2, '0')}`
}

/**
 * The state of keyset paging over {items, next_after}: `pages` keeps the `after` that led to each page
 * so "previous" goes back without the server counting anything.
 */
export class Keyset {
  constructor() { this.reset() }
  reset() { this.stack = [null]; this.next = null }
  get after() { return this.stack[this.stack.length - 1] }
  get page() { return this.stack.length }
  get hasPrev() { return this.stack.length > 1 }
  get hasNext() { return this.next !== null && this.next !== undefined }
  /** Record the answer of the current page. */
  seen(answer) { this.next = answer ? answer.next_after : null }
  forward() { if (this.hasNext) this.stack.push(this.next) }
  back() { if (this.hasPrev) this.stack.pop() }
}

/** An inspection's points lost: the sum of failed items' points (what the server computes). */
export function pointsLost(items) {
  return (items || []).reduce((sum, i) => sum + (i.passed ? 0 : Number(i.points) || 0), 0)
}

/** The standing checklist of a routine inspection (codes starting with `lift` count for the lift contractor). */
export const CHECKLIST = [
  { code: 'fire_lane', title: '消防通道畅通', points: 5 },
  { code: 'sanitation', title: '公共区域环境卫生', points: 3 },
  { code: 'lift_cert', title: '电梯年检合格标志', points: 5 },
  { code: 'security', title: '门岗值守与巡逻记录', points: 3 },
  { code: 'disclosure_board', title: '公示栏信息公开', points: 2 },
]

/** The witnesses a vote's quorum would take by default: street office and residents' committee, at least 1. */
export function defaultQuorum(witnesses) {
  const active = (witnesses || []).filter((w) => !w.retired_at)
  return active.filter((w) => w.kind === 'street_office' || w.kind === 'residents_committee').length || (active.length ? 1 : 0)
}

/** Who may register or retire a witness of `kind`: the committee only its members; the admin the others. */
export function mayManageWitness(kind, { admin, committee }) {
  if (admin) return true
  return !!committee && kind === 'committee_member'
}
