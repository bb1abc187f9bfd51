/**
 * Where the server is. Change DEFAULT_BASE_URL before uploading a version (miniprogram/README.md,
 * "Configure"); the domain must also be in the mini-program's request/uploadFile/downloadFile
 * whitelist. A developer may point one phone or DevTools at another server without rebuilding:
 * `wx.setStorageSync('linli/base-url', 'http://127.0.0.1:8000')` (DevTools: tick "不校验合法域名").
 */
'use strict';

var DEFAULT_BASE_URL = 'https://linli.example.com';
var OVERRIDE_KEY = 'linli/base-url';
var override = null;

function baseUrl() {
  if (override) return override;
  var stored = typeof wx !== 'undefined' && wx.getStorageSync ? wx.getStorageSync(OVERRIDE_KEY) : '';
  return (typeof stored === 'string' && stored) || DEFAULT_BASE_URL;
}

/** Set the server for this run (tests and the end-to-end script); null goes back to the default. */
function setBaseUrl(url) {
  override = url ? String(url).replace(/\/+$/, '') : null;
}

module.exports = { DEFAULT_BASE_URL: DEFAULT_BASE_URL, OVERRIDE_KEY: OVERRIDE_KEY, baseUrl: baseUrl, setBaseUrl: setBaseUrl };
