import { createRouter, createWebHistory } from 'vue-router'
import { auth, onUnauthorized } from './api.js'
import { adopt, community, isAdmin, loadMe, myStreets, nameAdopted, store } from './store.js'

const Shell = () => import('./views/Shell.vue')
const c = (name, loader, path = name) => ({ path: `c/:cid/${path}`, name, component: loader, props: true })
const d = (name, loader) => ({ path: `d/${name}`, name: `d-${name}`, component: loader })

export const router = createRouter({
  history: createWebHistory('/console/'),
  routes: [
    { path: '/login', name: 'login', component: () => import('./views/Login.vue'), meta: { public: true } },
    // the public integrity query: no session, nothing personal (docs/integrity.md)
    { path: '/public/:oid?', name: 'public', component: () => import('./views/Public.vue'), props: true, meta: { public: true } },
    {
      path: '/', component: Shell, children: [
        { path: '', name: 'home', component: () => import('./views/Home.vue') },
        { path: 'communities', name: 'communities', component: () => import('./views/Communities.vue') },
        c('registry', () => import('./views/Registry.vue')),
        c('bindings', () => import('./views/Bindings.vue')),
        c('votes', () => import('./views/Votes.vue')),
        c('vote', () => import('./views/VoteDetail.vue'), 'votes/:vid'),
        c('notices', () => import('./views/Notices.vue')),
        c('revenue', () => import('./views/Revenue.vue')),
        c('emergency', () => import('./views/Emergency.vue')),
        c('tickets', () => import('./views/Tickets.vue')),
        c('ticket', () => import('./views/TicketDetail.vue'), 'tickets/:tid'),
        c('disclosures', () => import('./views/Disclosures.vue')),
        c('stats', () => import('./views/Stats.vue')),
        c('members', () => import('./views/Members.vue')),
        c('inspections', () => import('./views/Inspections.vue')),
        c('disputes', () => import('./views/Disputes.vue')),
        c('contracts', () => import('./views/Contracts.vue')),
        c('witnesses', () => import('./views/Witnesses.vue')),
        d('street', () => import('./views/district/Street.vue')),
        d('hotline', () => import('./views/district/Hotline.vue')),
        d('routine', () => import('./views/district/Routine.vue')),
        d('organisations', () => import('./views/district/Organisations.vue')),
        d('open-disputes', () => import('./views/district/OpenDisputes.vue')),
        d('setup', () => import('./views/district/Setup.vue')),
      ],
    },
    { path: '/:rest(.*)*', redirect: '/' },
  ],
})

router.beforeEach(async (to) => {
  if (to.meta.public) return true
  if (!auth.token) return { name: 'login', query: to.fullPath !== '/' ? { next: to.fullPath } : {} }
  if (!store.loaded) {
    try { await loadMe() } catch { return { name: 'login' } }
  }
  // a street or district regulator following a link to a compound of their scope (the server decides)
  if (to.params.cid && !community(to.params.cid) && !isAdmin() && myStreets().length) {
    adopt(to.params.cid)
    nameAdopted()
  }
  return true
})

onUnauthorized(() => {
  store.loaded = false
  router.push({ name: 'login' })
})
