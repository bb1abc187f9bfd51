'use strict';
// The one request wrapper (lib/request.js) against a fake wx: bearer header, the error envelope's
// Chinese message, 401 → one new login, GET-only retries with back-off, uploads and downloads.
const test = require('node:test');
const assert = require('node:assert/strict');
const { createWx } = require('../test-support/fake-wx.js');
const request = require('../lib/request.js');

const BASE = 'https://linli.test';

function setup(options) {
  const wx = createWx(options);
  global.wx = wx;
  const sleeps = [];
  const client = new request.Client({ baseUrl: BASE, sleep: (ms) => { sleeps.push(ms); return Promise.resolve(); } });
  let tokens = 0;
  wx.__route('POST', '/api/v1/auth/wechat-login', ({ body }) => {
    tokens += 1;
    return { statusCode: 200, data: { token: 'token-' + tokens, expires_at: '2026-12-01T00:00:00Z', user: { id: 7, code: body.code } } };
  });
  return { wx, client, sleeps, tokens: () => tokens };
}

test('logs in first, then sends the bearer token; the user is kept', async () => {
  const { wx, client } = setup({ openid: 'owner' });
  wx.__route('GET', '/api/v1/me', ({ header }) => ({ statusCode: 200, data: { auth: header.Authorization } }));
  assert.deepEqual(await client.request({ path: '/api/v1/me' }), { auth: 'Bearer token-1' });
  assert.equal(client.user().id, 7);
  assert.match(client.user().code, /^code-owner~1$/);
  const login = wx.__calls.request[0];
  assert.equal(login.header.Authorization, undefined, 'the login itself carries no token');
  await client.request({ path: '/api/v1/me' });
  assert.equal(wx.__calls.login, 1, 'one login for both calls');
});

test('a refusal is an ApiError with the server\'s Chinese message, code, status and details', async () => {
  const { wx, client } = setup();
  wx.__route('POST', '/api/v1/votes/1/ballots', () => ({ statusCode: 409, data: { error: { code: 'vote_closed', message: '表决已截止', details: { closes_at: 'x' } } } }));
  await assert.rejects(client.request({ method: 'POST', path: '/api/v1/votes/1/ballots', data: {} }), (e) => {
    assert.ok(e instanceof request.ApiError);
    assert.equal(e.status, 409);
    assert.equal(e.code, 'vote_closed');
    assert.equal(e.message, '表决已截止');
    assert.deepEqual(e.details, { closes_at: 'x' });
    assert.equal(request.messageOf(e), '表决已截止');
    return true;
  });
});

test('an answer without the envelope still gives a Chinese message; unknown errors never show English', async () => {
  const { wx, client } = setup();
  wx.__route('GET', '/api/v1/x', () => ({ statusCode: 502, data: '<html>Bad Gateway</html>' }));
  await assert.rejects(client.request({ path: '/api/v1/x' }), (e) => e.code === 'http_502' && /服务器暂时无法处理请求/.test(e.message));
  assert.equal(request.messageOf(new TypeError('x is undefined')), '出现了意外错误，请稍后重试');
});

test('401 → a new login once and the request once more; a second 401 is final', async () => {
  const { wx, client, tokens } = setup();
  let seen = [];
  wx.__route('GET', '/api/v1/me', ({ header }) => {
    seen.push(header.Authorization);
    return header.Authorization === 'Bearer token-2' ? { statusCode: 200, data: { ok: true } } : { statusCode: 401, data: { error: { code: 'token_revoked', message: '登录已失效', details: {} } } };
  });
  assert.deepEqual(await client.request({ path: '/api/v1/me' }), { ok: true });
  assert.deepEqual(seen, ['Bearer token-1', 'Bearer token-2']);
  assert.equal(tokens(), 2);
  wx.__route('GET', '/api/v1/always401', () => ({ statusCode: 401, data: { error: { code: 'invalid_token', message: '登录无效', details: {} } } }));
  await assert.rejects(client.request({ path: '/api/v1/always401' }), (e) => e.status === 401 && e.message === '登录无效');
  assert.equal(tokens(), 3, 'exactly one more login, no loop');
});

test('concurrent 401s share one login', async () => {
  const { wx, client, tokens } = setup();
  wx.__store.set(request.TOKEN_KEY, JSON.stringify('stale'));
  wx.__route('GET', /^\/api\/v1\/n\/(\d+)$/, ({ header, match }) => (header.Authorization === 'Bearer stale'
    ? { statusCode: 401, data: { error: { code: 'token_expired', message: '登录已过期', details: {} } } }
    : { statusCode: 200, data: Number(match[1]) }));
  const answers = await Promise.all([1, 2, 3, 4].map((n) => client.request({ path: '/api/v1/n/' + n })));
  assert.deepEqual(answers, [1, 2, 3, 4]);
  assert.equal(tokens(), 1);
});

test('a GET that gets no answer is retried with back-off, then succeeds', async () => {
  const { wx, client, sleeps } = setup();
  let tries = 0;
  wx.__route('GET', '/api/v1/flaky', () => (++tries < 3 ? { networkError: 'timeout' } : { statusCode: 200, data: { tries } }));
  assert.deepEqual(await client.request({ path: '/api/v1/flaky' }), { tries: 3 });
  assert.deepEqual(sleeps, [500, 1000]);
});

test('a GET gives up after three retries with the Chinese network message', async () => {
  const { wx, client, sleeps } = setup();
  let tries = 0;
  wx.__route('GET', '/api/v1/down', () => { tries += 1; return { networkError: 'fail' }; });
  await assert.rejects(client.request({ path: '/api/v1/down' }), (e) => e.code === 'network_error' && e.message === request.MESSAGES.network && e.status === 0);
  assert.equal(tries, 4);
  assert.deepEqual(sleeps, [500, 1000, 2000]);
});

test('a POST that gets no answer is never repeated (it may have reached the server)', async () => {
  const { wx, client, sleeps } = setup();
  let tries = 0;
  wx.__route('POST', '/api/v1/votes/1/ballots', () => { tries += 1; return { networkError: 'fail' }; });
  await assert.rejects(client.request({ method: 'POST', path: '/api/v1/votes/1/ballots', data: {} }), (e) => e.code === 'network_error');
  assert.equal(tries, 1);
  assert.deepEqual(sleeps, []);
});

test('query strings leave out empty values and encode the rest', () => {
  assert.equal(request.queryString({ a: 1, b: '', c: null, d: '中 文', e: undefined }), '?a=1&d=%E4%B8%AD%20%E6%96%87');
  assert.equal(request.queryString({}), '');
});

test('upload: one file per request with the bearer header, progress, the answer parsed; 401 logs in again', async () => {
  const { wx, client } = setup();
  let first = true;
  wx.__route('POST', '/api/v1/media', ({ header, body }) => {
    if (first) { first = false; return { statusCode: 401, data: { error: { code: 'token_expired', message: '登录已过期', details: {} } } }; }
    return { statusCode: 201, data: { id: 5, auth: header.Authorization, file: body.filePath, purpose: body.formData.purpose } };
  });
  const progress = [];
  const media = await client.upload({ path: '/api/v1/media', filePath: 'wxfile://a.jpg', formData: { purpose: 'photo' }, onProgress: (p) => progress.push(p) });
  assert.deepEqual(media, { id: 5, auth: 'Bearer token-2', file: 'wxfile://a.jpg', purpose: 'photo' });
  assert.ok(progress.includes(100));
  assert.equal(wx.__calls.upload.length, 2);
  assert.ok(wx.__calls.upload.every((u) => u.name === 'file'));
  wx.__route('POST', '/api/v1/media2', () => ({ statusCode: 422, data: { error: { code: 'unsupported_file', message: '不支持的文件类型', details: {} } } }));
  await assert.rejects(client.upload({ path: '/api/v1/media2', filePath: 'x' }), (e) => e.code === 'unsupported_file' && e.message === '不支持的文件类型');
});

test('download: the bearer header, the temporary file; a refusal is an ApiError', async () => {
  const { wx, client } = setup();
  wx.__route('GET', '/api/v1/media/3/thumbnail', () => ({ statusCode: 200 }));
  const path = await client.download('/api/v1/media/3/thumbnail');
  assert.match(path, /^wxfile:\/\/tmp\//);
  assert.equal(wx.__calls.download[0].header.Authorization, 'Bearer token-1');
  assert.equal(wx.__calls.download[0].url, BASE + '/api/v1/media/3/thumbnail');
  wx.__route('GET', '/api/v1/media/4', () => ({ statusCode: 403 }));
  await assert.rejects(client.download('/api/v1/media/4'), (e) => e.status === 403 && /请求失败/.test(e.message));
});

test('wx.login failing is a Chinese error, and nothing is sent without a token', async () => {
  const { wx, client } = setup();
  wx.login = (o) => setTimeout(() => o.fail({ errMsg: 'login:fail' }), 0);
  wx.__route('GET', '/api/v1/me', () => ({ statusCode: 200, data: {} }));
  await assert.rejects(client.request({ path: '/api/v1/me' }), (e) => e.code === 'wx_login_failed' && e.message === request.MESSAGES.login);
  assert.equal(wx.__calls.request.length, 0);
});

test('development: a stored dev openid logs in with the fake WeChat\'s code instead of wx.login', async () => {
  const { wx, client } = setup();
  wx.__store.set(request.DEV_OPENID_KEY, JSON.stringify('dev-owner'));
  wx.__route('GET', '/api/v1/me', () => ({ statusCode: 200, data: {} }));
  await client.request({ path: '/api/v1/me' });
  assert.equal(wx.__calls.login, 0);
  assert.match(wx.__calls.request[0].data.code, /^code-dev-owner~\d+$/);
});
