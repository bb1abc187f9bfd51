/**
 * Small helpers the pages share: loading and error state, the current community, navigation.
 * Pages are built with Component() (WeChat allows a page to be a component: its lifecycle in
 * `methods`), which is also what miniprogram-simulate renders in the tests.
 */
'use strict';

var request = require('./request.js');

var COMMUNITY_KEY = 'linli/community';

/**
 * Run `task()` (a promise) with the page's `loading` and `error` data kept: loading while it runs,
 * then the Chinese message of a failure in `error` (or ''). Resolves the task's value, or null.
 */
function load(page, task) {
  page.setData({ loading: true, error: '' });
  return Promise.resolve().then(task).then(function (value) {
    page.setData({ loading: false });
    return value;
  }, function (error) {
    page.setData({ loading: false, error: request.messageOf(error) });
    return null;
  });
}

/** Show a refusal as WeChat's modal with the server's Chinese message. */
function alert(error, title) {
  var message = typeof error === 'string' ? error : request.messageOf(error);
  return new Promise(function (resolve) {
    wx.showModal({ title: title || '未能完成', content: message, showCancel: false, complete: resolve });
  });
}

function toast(title) {
  wx.showToast({ title: title, icon: 'success' });
}

/** Ask yes/no; resolves true for yes. */
function confirm(title, content) {
  return new Promise(function (resolve) {
    wx.showModal({ title: title, content: content, success: function (res) { resolve(!!(res && res.confirm)); }, fail: function () { resolve(false); } });
  });
}

/** The community the user looks at (chosen on the home page), or null. */
function currentCommunity() {
  var value = wx.getStorageSync(COMMUNITY_KEY);
  return typeof value === 'number' && value > 0 ? value : null;
}

function setCommunity(id) {
  wx.setStorageSync(COMMUNITY_KEY, id);
}

function go(url) {
  wx.navigateTo({ url: url });
}

/** The id from a page's query ({id: '12'} → 12), or null. */
function intParam(query, name) {
  var n = query ? parseInt(query[name], 10) : NaN;
  return Number.isInteger(n) && n > 0 ? n : null;
}

module.exports = {
  COMMUNITY_KEY: COMMUNITY_KEY,
  load: load,
  alert: alert,
  toast: toast,
  confirm: confirm,
  currentCommunity: currentCommunity,
  setCommunity: setCommunity,
  go: go,
  intParam: intParam
};
