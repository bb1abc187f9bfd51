// Which pages each role works in (the side menu), from the caller's roles in the chosen community.

export const PAGES = [
  { name: 'registry', title: '业主名册', roles: ['committee'] },
  { name: 'bindings', title: '认证审核', roles: ['committee', 'property_staff'] },
  { name: 'votes', title: '表决', roles: ['committee', 'regulator'] },
  { name: 'notices', title: '公告', roles: ['committee', 'property_staff'] },
  { name: 'revenue', title: '公共收益', roles: ['committee'] },
  { name: 'emergency', title: '应急维修资金', roles: ['committee', 'property_staff'] },
  { name: 'tickets', title: '工单', roles: ['property_staff', 'committee', 'regulator'] },
  { name: 'disclosures', title: '五个公开', roles: ['property_staff', 'committee'] },
  { name: 'stats', title: '统计', roles: ['regulator', 'property_staff', 'committee'] },
  { name: 'members', title: '成员与角色', roles: ['platform_admin', 'committee'] },
  { name: 'inspections', title: '巡查与整改', roles: ['regulator', 'property_staff', 'committee'] },
  { name: 'disputes', title: '矛盾调处', roles: ['committee', 'property_staff', 'regulator'] },
  { name: 'contracts', title: '服务企业', roles: ['regulator'] },
  { name: 'witnesses', title: '见证人', roles: ['committee', 'property_staff', 'regulator'] },
]

/** The district's pages (street and district regulators, platform admins), under /d/. */
export const DISTRICT_PAGES = [
  { name: 'street', title: '街道概览', admin: true },
  { name: 'hotline', title: '12345 热线', admin: true },
  { name: 'routine', title: '421 巡查通报', admin: true },
  { name: 'organisations', title: '企业与诚信', admin: true },
  { name: 'open-disputes', title: '矛盾调处（辖区）', admin: true },
  { name: 'setup', title: '街道与授权', admin: true, adminOnly: true },
]

/** The district pages for a street/district regulator (`scoped`) or a platform admin. */
export function districtPagesFor(scoped, isAdmin) {
  if (isAdmin) return DISTRICT_PAGES
  return scoped ? DISTRICT_PAGES.filter((p) => !p.adminOnly) : []
}

/** The pages open to someone with `roles` in a community (a platform admin sees all). */
export function pagesFor(roles, isAdmin) {
  if (isAdmin) return PAGES
  const have = new Set(roles)
  return PAGES.filter((p) => p.roles.some((r) => have.has(r)))
}

/** The first page to land on for these roles. */
export function homeFor(roles, isAdmin) {
  const have = new Set(roles)
  if (have.has('property_staff')) return 'tickets'
  if (have.has('committee')) return 'registry'
  if (have.has('regulator')) return 'stats'
  return isAdmin ? 'members' : null
}

/** Where someone lands with no community role: a scoped regulator on the street dashboard. */
export function districtHome(scoped, isAdmin) {
  return scoped || isAdmin ? 'street' : null
}
