// A ticket's timeline: its events and replies in one list, oldest first, in words.
import { label } from './format.js'

const WHO = { reporter: '居民', property_staff: '物业', regulator: '监管部门', system: '系统', committee: '业委会' }

export function eventText(e) {
  const who = WHO[e.actor_role] || e.actor_role
  if (e.action === 'submitted') return `${who}提交了工单`
  if (e.action === 'assigned') return e.assignee_id ? `${who}指派给用户 #${e.assignee_id}` : `${who}取消了指派`
  if (e.action === 'escalated') return '工单超时，已升级至监管部门'
  let text = `${who}：${label('ticketStatus', e.from_status)} → ${label('ticketStatus', e.to_status)}`
  if (e.rating) text += `，评价 ${e.rating} 星`
  if (e.note && !e.reply_id) text += `（${e.note}）`
  return text
}

/** Events and replies merged by time (then id); a reply written by a transition is shown once, with it. */
export function timelineOf(ticket) {
  const replies = new Map(ticket.replies.map((r) => [r.id, r]))
  const shown = new Set()
  const items = ticket.events.map((e) => {
    const r = e.reply_id ? replies.get(e.reply_id) : null
    if (r) shown.add(r.id)
    return { key: `e${e.id}`, at: e.created_at, order: e.id, text: eventText(e) + (r && r.body ? `：${r.body}` : ''), photos: r ? r.photos : [] }
  })
  for (const r of ticket.replies) {
    if (shown.has(r.id)) continue
    items.push({ key: `r${r.id}`, at: r.created_at, order: r.id, text: `${WHO[r.author_role] || r.author_role}回复：${r.body}`, photos: r.photos })
  }
  return items.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.key < b.key ? -1 : 1))
}
