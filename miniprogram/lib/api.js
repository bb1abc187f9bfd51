/**
 * The server's API as the pages use it: one function per operation of GET /api/v1/openapi.json
 * that the mini-program calls, each through the one request wrapper (lib/request.js).
 */
'use strict';

var request = require('./request.js');

function c() {
  return request.client();
}

function get(path, query) {
  return c().request({ method: 'GET', path: path, query: query });
}

function post(path, data) {
  return c().request({ method: 'POST', path: path, data: data === undefined ? {} : data });
}

function del(path) {
  return c().request({ method: 'DELETE', path: path });
}

function enc(value) {
  return encodeURIComponent(String(value));
}

function community(cid) {
  return '/api/v1/communities/' + enc(cid);
}

module.exports = {
  // identity and my flat
  me: function () { return get('/api/v1/me'); },
  verifyPhone: function (code) { return post('/api/v1/me/phone', { code: code }); },
  logout: function () { return post('/api/v1/auth/logout'); },
  communities: function (query) { return get('/api/v1/communities', query); },
  claim: function (cid, body) { return post(community(cid) + '/bindings', body); },
  upload: function (filePath, onProgress, purpose) {
    return c().upload({ path: '/api/v1/media', filePath: filePath, formData: purpose ? { purpose: purpose } : {}, onProgress: onProgress });
  },
  download: function (path) { return c().download(path); },
  mediaInfo: function (mid) { return get('/api/v1/media/' + enc(mid) + '/info'); },

  // disclosures, fees, revenue, emergency fund
  disclosures: function (cid) { return get(community(cid) + '/disclosures'); },
  disclosureVersions: function (cid, kind, page) { return get(community(cid) + '/disclosures/' + enc(kind) + '/versions', { page: page, per_page: 50 }); },
  disclosureVersion: function (cid, kind, n) { return get(community(cid) + '/disclosures/' + enc(kind) + '/versions/' + enc(n)); },
  disclosureDiff: function (cid, kind, from, to) { return get(community(cid) + '/disclosures/' + enc(kind) + '/diff', { from: from, to: to }); },
  myFees: function (cid) { return get(community(cid) + '/my-fees'); },
  revenueStatements: function (cid, page) { return get(community(cid) + '/revenue-statements', { page: page }); },
  revenueVersions: function (cid, period) { return get(community(cid) + '/revenue-statements/' + enc(period) + '/versions', { per_page: 50 }); },
  revenueDiff: function (cid, period, from, to) { return get(community(cid) + '/revenue-statements/' + enc(period) + '/diff', { from: from, to: to }); },
  emergencySpending: function (cid, page) { return get(community(cid) + '/emergency-spending', { page: page }); },

  // notices
  notices: function (cid, query) { return get(community(cid) + '/notices', query); },
  notice: function (cid, nid) { return get(community(cid) + '/notices/' + enc(nid)); },
  readNotice: function (cid, nid) { return post(community(cid) + '/notices/' + enc(nid) + '/read'); },

  // votes
  myVotes: function () { return get('/api/v1/me/votes', { per_page: 50 }); },
  votes: function (cid, query) { return get(community(cid) + '/votes', query); },
  vote: function (vid) { return get('/api/v1/votes/' + enc(vid)); },
  turnout: function (vid) { return get('/api/v1/votes/' + enc(vid) + '/turnout'); },
  myRights: function (vid) { return get('/api/v1/votes/' + enc(vid) + '/my-rights'); },
  castBallot: function (vid, envelope) { return post('/api/v1/votes/' + enc(vid) + '/ballots', envelope); },
  treeHead: function (vid, cosigned) { return get('/api/v1/votes/' + enc(vid) + '/tree-head', cosigned ? { cosigned: 'true' } : undefined); },
  consistency: function (vid, first, second) { return get('/api/v1/votes/' + enc(vid) + '/proofs/consistency', { first: first, second: second }); },
  tally: function (vid) { return get('/api/v1/votes/' + enc(vid) + '/tally'); },
  registerKey: function (publicKey) { return post('/api/v1/me/keys', { public_key: publicKey }); },
  myKeys: function () { return get('/api/v1/me/keys', { per_page: 50 }); },
  revokeKey: function (publicKey) { return del('/api/v1/me/keys/' + enc(publicKey)); },

  // proxies (linli-vote/1.1)
  delegations: function (vid) { return get('/api/v1/votes/' + enc(vid) + '/delegations'); },
  delegate: function (vid, envelope) { return post('/api/v1/votes/' + enc(vid) + '/delegations', envelope); },
  revokeDelegation: function (vid, envelope) { return post('/api/v1/votes/' + enc(vid) + '/delegation-revocations', envelope); },
  myProxies: function () { return get('/api/v1/me/proxies'); },
  registerProxyKey: function (publicKey) { return post('/api/v1/me/proxy-keys', { public_key: publicKey }); },

  // tickets
  tickets: function (cid, query) { return get(community(cid) + '/tickets', query); },
  ticket: function (tid) { return get('/api/v1/tickets/' + enc(tid)); },
  fileTicket: function (cid, body) { return post(community(cid) + '/tickets', body); },
  replyTicket: function (tid, body) { return post('/api/v1/tickets/' + enc(tid) + '/replies', body); },
  moveTicket: function (tid, body) { return post('/api/v1/tickets/' + enc(tid) + '/transitions', body); },

  // subscribe messages
  templates: function () { return get('/api/v1/notifications/templates'); },

  // console sign-in
  consoleChallenge: function (code) { return get('/api/v1/console/login-challenges/' + enc(code)); },
  confirmConsole: function (code) { return post('/api/v1/console/login-challenges/' + enc(code) + '/confirm'); },
  declineConsole: function (code) { return post('/api/v1/console/login-challenges/' + enc(code) + '/decline'); },
  sessions: function () { return get('/api/v1/me/sessions'); },
  endSession: function (id) { return del('/api/v1/me/sessions/' + enc(id)); }
};
