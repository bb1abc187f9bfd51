// Who is signed in and in which community they work: from GET /me (roles per community) and, for a
// platform admin, the directory of every community.
import { reactive } from 'vue'
import { api, auth, setToken } from './api.js'

export const store = reactive({ me: null, communities: [], streets: [], loaded: false })

const CONSOLE_ROLES = ['committee', 'property_staff', 'regulator']

export async function loadMe() {
  const me = await api.get('/me')
  let communities = me.communities
    .map((c) => ({ id: c.id, name: c.name, roles: c.roles }))
    .filter((c) => c.roles.some((r) => CONSOLE_ROLES.includes(r)))
  if (me.user.is_platform_admin) {
    const all = await api.get('/communities', { per_page: 100 })
    const mine = new Map(communities.map((c) => [c.id, c]))
    communities = all.items.map((c) => mine.get(c.id) || { id: c.id, name: c.name, roles: [] })
  }
  // street and district regulators hold `regulator` through a scope (GET /streets marks theirs `mine`);
  // asked only of those who may be one, since the list is for regulators and admins
  let streets = []
  if (me.user.is_platform_admin || !communities.length || communities.some((c) => c.roles.includes('regulator'))) {
    try { streets = await api.get('/streets') } catch { streets = [] }
  }
  named = null
  store.me = me
  store.communities = communities
  store.streets = streets
  store.loaded = true
  auth.me = me
  return store
}

/** Streets within the caller's scope (all of them for a district regulator or a platform admin). */
export function myStreets() {
  return store.streets.filter((s) => s.mine)
}

/** Street or district regulator, or platform admin: the district pages. */
export function hasDistrict() {
  return isAdmin() || myStreets().length > 0
}

/**
 * A compound opened from a district page joins the picker with the role a scope gives there
 * (`regulator`, nothing else); the server decides what is really allowed.
 */
export function adopt(cid, name) {
  const id = Number(cid)
  const known = store.communities.find((c) => c.id === id)
  if (known) {
    if (!isAdmin() && !known.roles.includes('regulator')) known.roles.push('regulator')
    if (name && known.placeholder) { known.name = name; known.placeholder = false }
    return known
  }
  const added = { id, name: name || `小区 #${id}`, placeholder: !name, roles: isAdmin() ? [] : ['regulator'] }
  store.communities.push(added)
  return added
}

/** The name of a compound adopted from a link: looked up once in the caller's streets (first 200 of each). */
let named = null
export async function nameAdopted() {
  if (!store.communities.some((c) => c.placeholder)) return
  if (!named) {
    named = new Map()
    for (const s of myStreets()) {
      try { (await api.get(`/streets/${s.id}/communities`, { limit: 200 })).items.forEach((c) => named.set(c.id, c.name)) } catch { /* keeps the number */ }
    }
  }
  for (const c of store.communities) if (c.placeholder && named.has(c.id)) { c.name = named.get(c.id); c.placeholder = false }
}

export function community(cid) {
  return store.communities.find((c) => c.id === Number(cid)) || null
}

export function rolesIn(cid) {
  const c = community(cid)
  return c ? c.roles : []
}

export function isAdmin() {
  return !!(store.me && store.me.user.is_platform_admin)
}

export function has(cid, ...roles) {
  if (isAdmin()) return true
  const mine = rolesIn(cid)
  return roles.some((r) => mine.includes(r))
}

export async function signOut() {
  try { await api.post('/auth/logout') } catch { /* already gone */ }
  setToken('')
  store.me = null
  store.loaded = false
}
