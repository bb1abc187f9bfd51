'use strict';
// A fake `wx` for the node tests: synchronous storage, wx.login codes, a router standing in for the
// server behind wx.request / wx.uploadFile / wx.downloadFile, and recorders for what the pages ask
// WeChat to show (modals, toasts, navigation, subscribe requests).
const crypto = require('crypto');

function createWx(options) {
  const opts = options || {};
  const store = new Map();
  const calls = { request: [], upload: [], download: [], modal: [], toast: [], navigate: [], subscribe: [], login: 0, clipboard: [] };
  const routes = [];
  let loginCount = 0;
  const later = (fn) => setTimeout(fn, 0);

  function route(method, pattern, handler) {
    routes.push({ method, pattern, handler });
  }

  function answer(method, url, body, header) {
    const path = url.replace(/^https?:\/\/[^/]+/, '');
    const bare = path.split('?')[0];
    const query = {};
    const qs = path.split('?')[1];
    if (qs) qs.split('&').forEach((kv) => { const [k, v] = kv.split('='); query[decodeURIComponent(k)] = decodeURIComponent(v || ''); });
    for (const r of routes) {
      const m = r.method === method && (typeof r.pattern === 'string' ? (r.pattern === bare ? [bare] : null) : bare.match(r.pattern));
      if (m) return r.handler({ method, path: bare, query, match: m, body, header });
    }
    return { statusCode: 404, data: { error: { code: 'not_found', message: '不存在', details: {} } } };
  }

  function settle(result, success, fail) {
    later(() => {
      if (result && result.networkError) return fail({ errMsg: 'request:fail ' + result.networkError });
      success(result);
    });
  }

  const wx = {
    __store: store,
    __calls: calls,
    __route: route,
    __routes: routes,
    getStorageSync: (k) => (store.has(k) ? JSON.parse(store.get(k)) : ''),
    setStorageSync: (k, v) => { store.set(k, JSON.stringify(v)); },
    removeStorageSync: (k) => { store.delete(k); },
    login: (o) => { loginCount += 1; calls.login = loginCount; later(() => o.success({ code: 'code-' + (opts.openid || 'tester') + '~' + loginCount })); },
    request: (o) => {
      calls.request.push({ method: o.method, url: o.url, data: o.data, header: o.header });
      let result;
      try {
        result = answer(o.method, o.url, o.data, o.header || {});
      } catch (e) {
        result = { statusCode: 500, data: { error: { code: 'internal_error', message: '服务器内部错误: ' + e.message, details: {} } } };
      }
      Promise.resolve(result).then((r) => settle(r, o.success, o.fail));
    },
    uploadFile: (o) => {
      calls.upload.push({ url: o.url, filePath: o.filePath, name: o.name, formData: o.formData, header: o.header });
      const listeners = [];
      const result = answer('POST', o.url, { filePath: o.filePath, formData: o.formData }, o.header || {});
      later(() => {
        listeners.forEach((fn) => { fn({ progress: 50 }); fn({ progress: 100 }); });
        Promise.resolve(result).then((r) => settle(r && !r.networkError ? { statusCode: r.statusCode, data: JSON.stringify(r.data) } : r, o.success, o.fail));
      });
      return { onProgressUpdate: (fn) => listeners.push(fn) };
    },
    downloadFile: (o) => {
      calls.download.push({ url: o.url, header: o.header });
      const result = answer('GET', o.url, undefined, o.header || {});
      Promise.resolve(result).then((r) => settle(r && !r.networkError ? { statusCode: r.statusCode, tempFilePath: 'wxfile://tmp/' + calls.download.length } : r, o.success, o.fail));
    },
    getRandomValues: (o) => later(() => o.success({ randomValues: Uint8Array.from(crypto.randomBytes(o.length)).buffer })),
    showModal: (o) => { calls.modal.push({ title: o.title, content: o.content }); later(() => { const r = { confirm: opts.confirm !== false, cancel: opts.confirm === false }; if (o.success) o.success(r); if (o.complete) o.complete(r); }); },
    showToast: (o) => { calls.toast.push(o.title); },
    navigateTo: (o) => { calls.navigate.push(o.url); },
    redirectTo: (o) => { calls.navigate.push(o.url); },
    switchTab: (o) => { calls.navigate.push(o.url); },
    requestSubscribeMessage: (o) => { calls.subscribe.push(o.tmplIds); later(() => { const r = {}; o.tmplIds.forEach((t) => { r[t] = 'accept'; }); o.success(r); }); },
    chooseMedia: (o) => later(() => o.success({ tempFiles: (opts.media || []).slice(0, o.count).map((p) => ({ tempFilePath: p })) })),
    scanCode: (o) => later(() => o.success({ result: opts.scan || '' })),
    previewImage: () => {},
    openDocument: () => {},
    setClipboardData: (o) => { calls.clipboard.push(o.data); },
    createSelectorQuery: () => ({ select: () => ({ boundingClientRect: () => ({ exec: () => {} }) }) })
  };
  return wx;
}

/** Resolve after every pending timer and promise callback has run (a few rounds). */
async function settleAll(rounds) {
  for (let i = 0; i < (rounds || 20); i++) await new Promise((r) => setTimeout(r, 0));
}

module.exports = { createWx, settleAll };
