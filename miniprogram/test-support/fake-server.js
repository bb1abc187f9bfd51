'use strict';
// A small stand-in for the server's answers, for the page tests: a community with a verified owner,
// an open vote kept in a FakeLog, and whatever a test adds with wx.__route (later routes lose to
// earlier ones, so a test adds its own first).
const { FakeLog } = require('./fake-log.js');

const ok = (data, status) => ({ statusCode: status || 200, data });
const refuse = (status, code, message) => ({ statusCode: status, data: { error: { code, message, details: {} } } });

function vote(log, extra) {
  return Object.assign({
    id: 5, community_id: 3, vote_id: log.voteId, title: log.definition.title, description: '电梯已使用 22 年，多次困人。', kind: 'resolution',
    matter: log.definition.matter, opens_at: '2026-11-01T00:00:00Z', closes_at: '2026-12-31T00:00:00Z', scope: { buildings: ['3'] },
    candidates: null, seats: null, fund: { amount_fen: 45000000, purpose: '更换 3 号楼 1 单元电梯', attachment_ids: [41] }, state: 'open',
    created_at: '2026-10-30T00:00:00Z', opened_at: '2026-11-01T00:00:00Z', closed_at: null, definition: log.definition,
    tree_head: log.head(), my_rights: [{ right_id: 'r1', label: '3-1-101', area: 8950, heads: 1, keys: [] }]
  }, extra || {});
}

/** Install the usual routes; returns {log, state} for the test to inspect. */
function standard(wx, options) {
  const opts = options || {};
  const log = opts.log || new FakeLog('v5-abcdef01');
  const state = { keys: [], ballots: [], tickets: [], templates: opts.templates || [{ event: 'vote_result', template_id: 'TPL-RESULT' }, { event: 'ticket_status', template_id: 'TPL-STATUS' }, { event: 'ticket_reply', template_id: 'TPL-REPLY' }] };
  wx.__route('POST', '/api/v1/auth/wechat-login', () => ok({ token: 'tok', expires_at: '2026-12-31T00:00:00Z', user: { id: 11 } }));
  wx.__route('GET', '/api/v1/me', () => ok(opts.me || {
    user: { id: 11, is_platform_admin: false, phone: '138****0001', phone_verified_at: '2026-11-01T00:00:00Z', created_at: '2026-11-01T00:00:00Z' },
    communities: [{ id: 3, name: '阳光花园', roles: ['owner', 'resident'], parts: [], rights: [] }],
    bindings: [{ id: 1, community_id: 3, label: '3-1-101', status: 'verified', method: 'phone_match', reason: null, created_at: '2026-11-01T00:00:00Z' }]
  }));
  wx.__route('GET', '/api/v1/notifications/templates', () => ok({ templates: state.templates }));
  wx.__route('GET', '/api/v1/votes/5', () => ok(vote(log, opts.vote)));
  wx.__route('GET', '/api/v1/votes/5/tree-head', ({ query }) => {
    const view = log.view(query.cosigned === 'true');
    return view ? ok(view) : refuse(409, 'no_cosigned_head', '还没有见证人联署的树头');
  });
  wx.__route('GET', '/api/v1/votes/5/turnout', () => ok(opts.turnout || {
    state: 'open', rights: 3, area: 30000, heads: 3, voted_rights: 2, voted_area: 20500, voted_heads: 2,
    signed_ballots: 1, paper_ballots: 1, quorum_area: 20000, quorum_heads: 2, quorum_reached: true
  }));
  wx.__route('GET', '/api/v1/votes/5/proofs/consistency', ({ query }) => {
    const first = Number(query.first);
    const second = Number(query.second);
    return ok({ vote_id: log.voteId, first, second, consistency_proof: log.consistency(first, second), first_tree_head: log.head(first), second_tree_head: log.head(second) });
  });
  wx.__route('POST', '/api/v1/me/keys', ({ body }) => {
    state.keys.push(body.public_key);
    return ok({ key: { public_key: body.public_key, created_at: '2026-11-27T08:00:00Z', revoked_at: null }, entries: [] }, 201);
  });
  wx.__route('POST', '/api/v1/votes/5/ballots', ({ body }) => {
    state.ballots.push(body);
    return ok(log.cast(body), 201);
  });
  wx.__route('GET', '/api/v1/media/41/info', () => ok({ id: 41, content_type: 'application/pdf', size: 1000, url: '/api/v1/media/41', thumbnail_url: null }));
  return { log, state };
}

module.exports = { standard, vote, ok, refuse };
