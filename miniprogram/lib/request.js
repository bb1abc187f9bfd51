/**
 * The one request wrapper of the mini-program: every call to the server goes through it.
 *
 * - the bearer token (from POST /api/v1/auth/wechat-login) on every request that needs one;
 * - a refusal's error envelope {"error": {code, message, details}} becomes an ApiError whose
 *   `message` is the server's Chinese message, shown to the user as it is;
 * - 401 → log in again once (wx.login → a fresh token) and repeat the request once; concurrent
 *   401s share one login;
 * - a network failure (no answer at all) is retried with back-off (0.5 s, 1 s, 2 s) for GETs only:
 *   a POST may have reached the server, and repeating it could do twice what the user did once;
 * - uploads (wx.uploadFile, one file per request, with progress) and downloads (wx.downloadFile with
 *   the bearer header: an <image src> cannot send one) follow the same rules.
 *
 * `wx` is read when a call is made (the global in WeChat; tests and the end-to-end script install
 * their own).
 */
'use strict';

var config = require('./config.js');

var TOKEN_KEY = 'linli/token';
// Development only: with this storage key set (DevTools console:
// wx.setStorageSync('linli/dev-openid', 'dev-owner')), logins send the development server's fake
// WeChat code `code-<openid>~<n>` instead of wx.login's (which only a real WeChat backend knows).
// Real WeChat refuses such codes, so it gives nothing in production.
var DEV_OPENID_KEY = 'linli/dev-openid';
var USER_KEY = 'linli/user';
var RETRY_DELAYS = [500, 1000, 2000];

var MESSAGES = {
  network: '网络连接失败，请检查网络后重试',
  server: '服务器暂时无法处理请求，请稍后再试',
  login: '微信登录失败，请稍后重试',
  badAnswer: '服务器的回答无法识别'
};

/** A refusal or failure, with the Chinese message to show. */
class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details || {};
  }
}

function envelopeOf(data) {
  if (typeof data === 'string') {
    try {
      data = JSON.parse(data);
    } catch (e) {
      return null;
    }
  }
  var error = data && typeof data === 'object' ? data.error : null;
  return error && typeof error.code === 'string' && typeof error.message === 'string' ? error : null;
}

/** The ApiError of an HTTP answer that is not a success. */
function errorOf(statusCode, data) {
  var envelope = envelopeOf(data);
  if (envelope) return new ApiError(statusCode, envelope.code, envelope.message, envelope.details);
  var message = statusCode >= 500 ? MESSAGES.server + '（' + statusCode + '）' : '请求失败（' + statusCode + '）';
  return new ApiError(statusCode, 'http_' + statusCode, message, {});
}

function networkError(failure) {
  var detail = failure && failure.errMsg ? failure.errMsg : String(failure);
  return new ApiError(0, 'network_error', MESSAGES.network, { errMsg: detail });
}

function sleep(ms) {
  return new Promise(function (resolve) { setTimeout(resolve, ms); });
}

function queryString(query) {
  if (!query) return '';
  var parts = [];
  Object.keys(query).forEach(function (k) {
    var v = query[k];
    if (v === undefined || v === null || v === '') return;
    parts.push(encodeURIComponent(k) + '=' + encodeURIComponent(String(v)));
  });
  return parts.length ? '?' + parts.join('&') : '';
}

class Client {
  /**
   * options: {baseUrl (function or string; default lib/config.js), retryDelays, sleep (tests)}.
   */
  constructor(options) {
    var opts = options || {};
    this._baseUrl = opts.baseUrl || config.baseUrl;
    this.retryDelays = opts.retryDelays || RETRY_DELAYS;
    this.sleep = opts.sleep || sleep;
    this._loggingIn = null;
  }

  baseUrl() {
    return typeof this._baseUrl === 'function' ? this._baseUrl() : this._baseUrl;
  }

  url(path, query) {
    return this.baseUrl() + path + queryString(query);
  }

  token() {
    var token = wx.getStorageSync(TOKEN_KEY);
    return typeof token === 'string' ? token : '';
  }

  /** The user of the last login ({id, …}), or null. */
  user() {
    var user = wx.getStorageSync(USER_KEY);
    return user && typeof user === 'object' ? user : null;
  }

  forget() {
    wx.removeStorageSync(TOKEN_KEY);
    wx.removeStorageSync(USER_KEY);
  }

  /** wx.login → POST /api/v1/auth/wechat-login → the token, stored. One login at a time. */
  login() {
    var self = this;
    if (!self._loggingIn) {
      var devOpenid = wx.getStorageSync(DEV_OPENID_KEY);
      self._loggingIn = new Promise(function (resolve, reject) {
        if (typeof devOpenid === 'string' && devOpenid) return resolve('code-' + devOpenid + '~' + Date.now());
        wx.login({
          success: function (res) {
            if (!res || !res.code) return reject(new ApiError(0, 'wx_login_failed', MESSAGES.login, {}));
            resolve(res.code);
          },
          fail: function (failure) {
            reject(new ApiError(0, 'wx_login_failed', MESSAGES.login, { errMsg: failure && failure.errMsg }));
          }
        });
      }).then(function (code) {
        return self.request({ method: 'POST', path: '/api/v1/auth/wechat-login', data: { code: code }, auth: false });
      }).then(function (body) {
        if (!body || typeof body.token !== 'string') throw new ApiError(0, 'bad_answer', MESSAGES.badAnswer, {});
        wx.setStorageSync(TOKEN_KEY, body.token);
        wx.setStorageSync(USER_KEY, body.user || null);
        return body;
      });
      var done = function () { self._loggingIn = null; };
      self._loggingIn.then(done, done);
    }
    return self._loggingIn;
  }

  _headers(auth, extra) {
    var header = Object.assign({}, extra || {});
    if (auth && this.token()) header.Authorization = 'Bearer ' + this.token();
    return header;
  }

  /**
   * Run `send(header)` (a function calling a wx transfer API and resolving {statusCode, data} or
   * rejecting on a network failure) with the wrapper's rules; resolves the answer of a 2xx.
   */
  _run(method, auth, send, header) {
    var self = this;
    var attempt = 0;
    var loggedInAgain = false;
    var once = function () {
      return send(self._headers(auth, header)).then(function (res) {
        if (res.statusCode === 401 && auth && !loggedInAgain) {
          loggedInAgain = true;
          wx.removeStorageSync(TOKEN_KEY);
          return self.login().then(once);
        }
        if (res.statusCode >= 200 && res.statusCode < 300) return res;
        throw errorOf(res.statusCode, res.data);
      }, function (failure) {
        if (method === 'GET' && attempt < self.retryDelays.length) {
          var delay = self.retryDelays[attempt];
          attempt += 1;
          return self.sleep(delay).then(once);
        }
        throw networkError(failure);
      });
    };
    var start = auth && !self.token() ? self.login() : Promise.resolve();
    return start.then(once);
  }

  /**
   * A JSON request. opts: {method = 'GET', path ('/api/v1/…'), query, data, auth = true}.
   * Resolves the parsed body of a 2xx (null for 204); rejects with an ApiError.
   */
  request(opts) {
    var self = this;
    var method = (opts.method || 'GET').toUpperCase();
    var auth = opts.auth !== false;
    var url = self.url(opts.path, opts.query);
    var send = function (header) {
      return new Promise(function (resolve, reject) {
        var args = { url: url, method: method, header: header, dataType: 'json', success: resolve, fail: reject };
        if (opts.data !== undefined) {
          args.data = opts.data;
          header['Content-Type'] = 'application/json';
        }
        wx.request(args);
      });
    };
    return self._run(method, auth, send).then(function (res) {
      return res.statusCode === 204 ? null : res.data;
    });
  }

  /**
   * One file to POST /api/v1/media (or another multipart route) with wx.uploadFile.
   * opts: {path, filePath, name = 'file', formData, onProgress(percent)}. Resolves the parsed body.
   */
  upload(opts) {
    var self = this;
    var url = self.url(opts.path || '/api/v1/media');
    var send = function (header) {
      return new Promise(function (resolve, reject) {
        var task = wx.uploadFile({
          url: url, filePath: opts.filePath, name: opts.name || 'file', formData: opts.formData || {}, header: header,
          success: resolve, fail: reject
        });
        if (task && opts.onProgress && task.onProgressUpdate) {
          task.onProgressUpdate(function (p) { opts.onProgress(p.progress); });
        }
      });
    };
    return self._run('POST', true, send).then(function (res) {
      if (typeof res.data !== 'string') return res.data;
      try {
        return JSON.parse(res.data);
      } catch (e) {
        throw new ApiError(res.statusCode, 'bad_answer', MESSAGES.badAnswer, {});
      }
    });
  }

  /** GET a file with the bearer header (wx.downloadFile); resolves the temporary file path. */
  download(path) {
    var url = path.indexOf('http') === 0 ? path : this.url(path);
    var send = function (header) {
      return new Promise(function (resolve, reject) {
        wx.downloadFile({ url: url, header: header, success: resolve, fail: reject });
      });
    };
    return this._run('GET', true, send).then(function (res) {
      return res.tempFilePath;
    });
  }
}

/** The message to show for anything a call rejected with (never a stack or an English error). */
function messageOf(error) {
  if (error instanceof ApiError || (error && error.name === 'ApiError')) return error.message;
  return '出现了意外错误，请稍后重试';
}

var shared = null;

/** The app's one client. */
function client() {
  if (!shared) shared = new Client();
  return shared;
}

module.exports = {
  ApiError: ApiError,
  Client: Client,
  client: client,
  errorOf: errorOf,
  messageOf: messageOf,
  queryString: queryString,
  TOKEN_KEY: TOKEN_KEY,
  DEV_OPENID_KEY: DEV_OPENID_KEY,
  USER_KEY: USER_KEY,
  RETRY_DELAYS: RETRY_DELAYS,
  MESSAGES: MESSAGES
};
