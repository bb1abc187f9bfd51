/**
 * Subscribe messages (wx.requestSubscribeMessage): the template ids come from the server
 * (GET /api/v1/notifications/templates, from its WECHAT_TEMPLATES), never from this code.
 *
 * WeChat only shows the request from a user's tap, so a page loads the ids beforehand (`prefetch`,
 * in onLoad) and calls `ask` first thing in the tap handler, before anything asynchronous. Asking
 * never blocks or fails the user's action: a refusal or an error is only reported to the caller.
 */
'use strict';

var api = require('./api.js');

/** The moments the app asks at, and the events the server then sends (docs/*.md, "Notifications"). */
var MOMENTS = {
  ticket_filed: ['ticket_status', 'ticket_reply'],
  ticket_replied: ['ticket_reply', 'ticket_status'],
  vote_cast: ['vote_result'],
  votes_list: ['vote_opened', 'vote_closing', 'notice_published']
};

var cache = null;

/** Load the ids once per run; resolves {event: template_id}. */
function prefetch() {
  if (cache) return Promise.resolve(cache);
  return api.templates().then(function (answer) {
    var map = {};
    (answer.templates || []).forEach(function (t) { map[t.event] = t.template_id; });
    cache = map;
    return map;
  }, function () {
    return {};
  });
}

/** The template ids of a moment that the server has configured (at most 3: WeChat's limit per request). */
function idsFor(moment) {
  var events = MOMENTS[moment] || [];
  var ids = [];
  events.forEach(function (e) {
    if (cache && cache[e] && ids.indexOf(cache[e]) < 0) ids.push(cache[e]);
  });
  return ids.slice(0, 3);
}

/**
 * Ask for the moment's messages (call synchronously inside a tap handler). Resolves
 * {asked: [ids], result} — result is WeChat's answer ({<id>: 'accept' | 'reject' | …}) or null.
 */
function ask(moment) {
  var ids = idsFor(moment);
  if (!ids.length || typeof wx.requestSubscribeMessage !== 'function') return Promise.resolve({ asked: [], result: null });
  return new Promise(function (resolve) {
    wx.requestSubscribeMessage({
      tmplIds: ids,
      success: function (res) { resolve({ asked: ids, result: res }); },
      fail: function () { resolve({ asked: ids, result: null }); }
    });
  });
}

function reset() {
  cache = null;
}

module.exports = { MOMENTS: MOMENTS, prefetch: prefetch, idsFor: idsFor, ask: ask, reset: reset };
