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
]

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
