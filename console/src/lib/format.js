// Money in fen and area in 0.01 m² are integers end to end: these format and parse them without floats.

/** 123456 → "1,234.56" (yuan). */
export function yuan(fen) {
  if (fen === null || fen === undefined) return '—'
  const n = BigInt(fen)
  const neg = n < 0n
  const abs = neg ? -n : n
  const whole = (abs / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',')
  const cents = (abs % 100n).toString().padStart(2, '0')
  return `${neg ? '-' : ''}${whole}.${cents}`
}

/** "1,234.5" / "1234.56" → 123456 fen; null when not an amount with at most two decimals. */
export function parseYuan(text) {
  const s = String(text ?? '').replace(/[,\s¥元]/g, '')
  const m = /^(\d+)(?:\.(\d{1,2}))?$/.exec(s)
  if (!m) return null
  const fen = BigInt(m[1]) * 100n + BigInt((m[2] || '').padEnd(2, '0') || '0')
  return fen > BigInt(Number.MAX_SAFE_INTEGER) ? null : Number(fen)
}

/** 8950 → "89.50 m²". */
export function area(hundredths) {
  if (hundredths === null || hundredths === undefined) return '—'
  return `${Math.trunc(hundredths / 100)}.${String(hundredths % 100).padStart(2, '0')} m²`
}

const CHINA_OFFSET_MS = 8 * 3600 * 1000

/** "2026-03-01T00:00:00Z" → "2026-03-01 08:00" (Beijing time; China has no daylight saving). */
export function beijing(iso, withSeconds = false) {
  if (!iso) return '—'
  const d = new Date(new Date(iso).getTime() + CHINA_OFFSET_MS)
  const s = d.toISOString().replace('T', ' ')
  return withSeconds ? s.slice(0, 19) : s.slice(0, 16)
}

/** A Beijing-time "YYYY-MM-DD HH:mm" (from a picker) → UTC ISO with Z, whole seconds. */
export function beijingToUtc(local) {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?$/.exec(local || '')
  if (!m) return null
  const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0)) - CHINA_OFFSET_MS
  return new Date(ms).toISOString().replace('.000Z', 'Z')
}

/** part/whole as "12.3%" (one decimal, rounded half up on integers), "—" for an empty whole. */
export function percent(part, whole) {
  if (!whole) return '—'
  const tenths = Math.floor((part * 1000) / whole + 0.5)
  return `${Math.trunc(tenths / 10)}.${tenths % 10}%`
}

/** A fraction 0..1 from the API (rounded to 4 decimals) as "95.5%". */
export function rate(value) {
  if (value === null || value === undefined) return '—'
  return `${(Math.round(value * 1000) / 10).toFixed(1)}%`
}

/** seconds → "2 小时 5 分" */
export function duration(seconds) {
  if (seconds === null || seconds === undefined) return '—'
  const d = Math.floor(seconds / 86400)
  const h = Math.floor((seconds % 86400) / 3600)
  const m = Math.floor((seconds % 3600) / 60)
  if (d) return `${d} 天 ${h} 小时`
  if (h) return `${h} 小时 ${m} 分`
  return `${m} 分`
}

export const LABELS = {
  role: { committee: '业委会', property_staff: '物业', regulator: '监管（街道/住建）', resident: '居民', owner: '业主', platform_admin: '平台管理员' },
  ticketStatus: { submitted: '已提交', accepted: '已受理', in_progress: '处理中', resolved: '已解决', confirmed: '已确认', reopened: '已重新打开' },
  category: { repair: '报修', complaint: '投诉', suggestion: '建议' },
  subject: {
    elevator: '电梯', parking: '停车', sanitation: '环境卫生', security: '安全', greenery: '绿化',
    illegal_construction: '违章搭建', fire_lane: '消防通道', pets: '宠物', noise: '噪声', utilities: '水电', other: '其他',
  },
  voteState: { draft: '草稿', open: '进行中', closed: '已截止', tallied: '已计票' },
  voteKind: { resolution: '决议', election: '选举' },
  matter: { ordinary: '一般事项', special: '重大事项' },
  noticeCategory: { general: '一般', maintenance: '维修', outage: '停水停电', safety: '安全', meeting: '会议', finance: '财务', vote: '表决', other: '其他' },
  bindingStatus: { pending: '待审核', verified: '已认证', rejected: '已驳回' },
  disclosure: {
    service_content: '服务内容', service_standard: '服务标准', fee_items: '收费项目', fee_standards: '收费标准',
    utility_apportionment: '公共水电费分摊',
  },
  buildingType: { high_rise: '高层', multi_storey: '多层', villa: '别墅', shop: '商铺' },
  basis: { per_m2_month: '按面积/月', per_part_month: '按户/月', per_use: '按次' },
  changeOp: { added: '新增', removed: '删除', changed: '修改' },
}

export function label(kind, code) {
  return (LABELS[kind] && LABELS[kind][code]) || code || '—'
}
