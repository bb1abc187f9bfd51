// Who is signed in and in which community they work: from GET /me (roles per community) and, for a
// platform admin, the directory of every community.
import { reactive } from 'vue'
import { api, auth, setToken } from './api.js'

export const store = reactive({ me: null, communities: [], loaded: false })

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
  store.me = me
  store.communities = communities
  store.loaded = true
  auth.me = me
  return store
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
