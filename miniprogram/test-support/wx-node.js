'use strict';
// A `wx` over Node's own fetch, for driving the mini-program's real code (lib/request.js, api.js,
// vote-client.js) against a real server: the end-to-end test (tests/js/test_e2e.py). wx.login
// answers codes of the server's fake WeChat (`code-<openid>~<n>`); storage is in memory, kept as
// JSON text as WeChat keeps it; files live in a temporary folder.
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');

function createNodeWx(options) {
  const opts = options || {};
  const store = new Map();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'linli-wx-'));
  const calls = { login: 0, subscribe: [], requests: 0, uploads: 0, downloads: 0 };
  let files = 0;

  const fail = (cb, error) => cb && cb({ errMsg: 'request:fail ' + (error && error.message ? error.message : String(error)) });

  async function parse(res) {
    const text = await res.text();
    const type = res.headers.get('content-type') || '';
    if (type.includes('json') && text) {
      try { return JSON.parse(text); } catch (e) { return text; }
    }
    return text;
  }

  return {
    __dir: dir,
    __calls: calls,
    getStorageSync: (k) => (store.has(k) ? JSON.parse(store.get(k)) : ''),
    setStorageSync: (k, v) => { store.set(k, JSON.stringify(v)); },
    removeStorageSync: (k) => { store.delete(k); },
    login: (o) => {
      calls.login += 1;
      setTimeout(() => o.success({ code: `code-${opts.openid}~${calls.login}-${crypto.randomBytes(3).toString('hex')}` }), 0);
    },
    request: (o) => {
      calls.requests += 1;
      const init = { method: o.method || 'GET', headers: Object.assign({}, o.header || {}) };
      if (o.data !== undefined && init.method !== 'GET') init.body = typeof o.data === 'string' ? o.data : JSON.stringify(o.data);
      fetch(o.url, init).then(async (res) => {
        o.success({ statusCode: res.status, data: await parse(res), header: Object.fromEntries(res.headers) });
      }, (e) => fail(o.fail, e));
    },
    uploadFile: (o) => {
      calls.uploads += 1;
      const listeners = [];
      const form = new FormData();
      Object.keys(o.formData || {}).forEach((k) => form.append(k, String(o.formData[k])));
      form.append(o.name, new Blob([fs.readFileSync(o.filePath)]), path.basename(o.filePath));
      fetch(o.url, { method: 'POST', headers: Object.assign({}, o.header || {}), body: form }).then(async (res) => {
        listeners.forEach((fn) => fn({ progress: 100, totalBytesSent: 1, totalBytesExpectedToSend: 1 }));
        o.success({ statusCode: res.status, data: await res.text() });
      }, (e) => fail(o.fail, e));
      return { onProgressUpdate: (fn) => listeners.push(fn) };
    },
    downloadFile: (o) => {
      calls.downloads += 1;
      fetch(o.url, { headers: Object.assign({}, o.header || {}) }).then(async (res) => {
        const bytes = Buffer.from(await res.arrayBuffer());
        files += 1;
        const file = path.join(dir, 'download-' + files);
        fs.writeFileSync(file, bytes);
        o.success({ statusCode: res.status, tempFilePath: file });
      }, (e) => fail(o.fail, e));
    },
    getRandomValues: (o) => setTimeout(() => o.success({ randomValues: Uint8Array.from(crypto.randomBytes(o.length)).buffer }), 0),
    requestSubscribeMessage: (o) => { calls.subscribe.push(o.tmplIds); setTimeout(() => o.success({}), 0); }
  };
}

module.exports = { createNodeWx };
