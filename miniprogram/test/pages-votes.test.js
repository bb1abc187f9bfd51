'use strict';
// What a resident sees on the vote pages (miniprogram-simulate against a fake wx and a fake log):
// the cast succeeded (receipt checked on the phone first), refused with the server's Chinese reason,
// a receipt that fails the phone's check, receipts re-checked (consistent, or a split view with its
// evidence), the verified result, and key management.
const test = require('node:test');
const assert = require('node:assert/strict');
const { installWx, openPage, text, all, tap } = require('../test-support/pages.js');
const { standard, ok, refuse } = require('../test-support/fake-server.js');
const { FakeLog } = require('../test-support/fake-log.js');
const { L } = require('../test-support/helpers.js');
const voteClient = require('../lib/vote-client.js');

async function castApprove(comp) {
  comp.instance.pickOption({ detail: { value: 'approve' } });
  await tap(comp, '.cast-button');
}

test('vote detail: definition, fund quote as a PDF, scope, thresholds in plain Chinese, the log so far', async () => {
  const wx = installWx();
  standard(wx);
  const comp = await openPage('pages/votes/detail', { id: '5' });
  assert.equal(text(comp, '.vote-title'), '更换3号楼电梯');
  assert.equal(text(comp, '.fund-amount'), '¥450,000.00');
  assert.equal(text(comp, '.vote-scope'), '3 号楼');
  const rules = all(comp, '.threshold').map((t) => t.dom.textContent);
  assert.match(rules[0], /共 3 个表决权，专有部分总面积 300.00 m²，业主总人数 3 人/);
  assert.match(rules[1], /三分之二以上（至少 200.00 m²）.*至少 2 人/);
  assert.match(rules[2], /一般事项.*超过参与表决面积的一半/);
  assert.match(text(comp, '.log-size'), /共 1 条记录/);
  assert.match(text(comp, '.fund'), /PDF 文件/);
  assert.equal(text(comp, '.cast-success'), null);
});

test('vote detail: the turnout so far against the two-thirds lines, totals only', async () => {
  const wx = installWx();
  standard(wx);
  const comp = await openPage('pages/votes/detail', { id: '5' });
  const lines = all(comp, '.turnout-line').map((t) => t.dom.textContent.replace(/\s+/g, ''));
  assert.deepEqual(lines, ['参与面积205.00m²/300.00m²（需200.00m²）', '参与人数2/3人（需2人）']);
  assert.match(text(comp, '.turnout-summary'), /已有 2 \/ 3 个表决权投票（含纸质票 1 张）；参与面积和人数都已过三分之二/);
  const short = installWx();
  standard(short, { turnout: { state: 'open', rights: 3, area: 30000, heads: 3, voted_rights: 1, voted_area: 10000,
    voted_heads: 1, signed_ballots: 1, paper_ballots: 0, quorum_area: 20000, quorum_heads: 2, quorum_reached: false } });
  const early = await openPage('pages/votes/detail', { id: '5' });
  assert.match(text(early, '.turnout-summary'), /面积和人数都过三分之二，表决才成立/);
});

test('cast succeeded: the key is made and registered, the ballot signed here, the receipt checked before 投票成功', async () => {
  const wx = installWx();
  const { state, log } = standard(wx);
  const comp = await openPage('pages/votes/detail', { id: '5' });
  await castApprove(comp);
  assert.match(text(comp, '.cast-success'), /^投票成功.*您的选择：同意.*公开日志第 1 条/);
  assert.equal(text(comp, '.cast-refused'), null);
  assert.ok(!comp.querySelector('#cast-warning'));
  // the key registered before the ballot, and it is the key that signed
  assert.equal(state.keys.length, 1);
  const urls = wx.__calls.request.map((r) => r.method + ' ' + r.url.replace(/^https?:\/\/[^/]+/, ''));
  assert.ok(urls.indexOf('POST /api/v1/me/keys') < urls.indexOf('POST /api/v1/votes/5/ballots'));
  assert.equal(state.ballots[0].public_key, state.keys[0]);
  assert.ok(L.verifyEnvelope(state.ballots[0], log.definition));
  // the receipt is kept on the phone, and the result message was asked for (its id from the server)
  const kept = voteClient.receiptsOf(log.voteId);
  assert.equal(kept.length, 1);
  assert.equal(kept[0].ok, true);
  assert.deepEqual(wx.__calls.subscribe, [['TPL-RESULT']]);
  // re-vote: the same key, a second ballot, both kept
  comp.instance.pickOption({ detail: { value: 'reject' } });
  await tap(comp, '.cast-button');
  assert.match(text(comp, '.cast-success'), /您的选择：反对.*第 2 条/);
  assert.equal(state.keys.length, 1, 'the key is registered once');
  assert.equal(voteClient.receiptsOf(log.voteId).length, 2);
  assert.equal(all(comp, '.previous-item').length, 2);
});

test('cast refused: the server\'s Chinese reason, and no 投票成功', async () => {
  const wx = installWx();
  wx.__route('POST', '/api/v1/votes/5/ballots', () => refuse(409, 'vote_closed', '表决已截止，不能再投票'));
  standard(wx);
  const comp = await openPage('pages/votes/detail', { id: '5' });
  await castApprove(comp);
  assert.equal(text(comp, '.cast-refused'), '投票未被接受：表决已截止，不能再投票');
  assert.equal(text(comp, '.cast-success'), null);
  assert.deepEqual(voteClient.receiptsOf('v5-abcdef01'), []);
});

test('a receipt that fails the phone\'s check is a red warning, never 投票成功', async () => {
  const wx = installWx();
  const log = new FakeLog('v5-abcdef01');
  // The server logs a different ballot than the one this phone signed (same right, another choice).
  wx.__route('POST', '/api/v1/votes/5/ballots', ({ body }) => {
    const other = JSON.parse(JSON.stringify(body));
    other.ballot.choice = { option: 'reject' };
    return ok(log.cast(other), 201);
  });
  standard(wx, { log });
  const comp = await openPage('pages/votes/detail', { id: '5' });
  await castApprove(comp);
  assert.equal(text(comp, '.cast-success'), null);
  const warning = text(comp, '#cast-warning');
  assert.match(warning, /警告：服务器的回答未通过本机核验/);
  assert.match(warning, /日志记录的选票与本机签署的不同/);
  assert.equal(voteClient.receiptsOf(log.voteId)[0].ok, false);
});

test('a receipt without its logged entry is not accepted as 投票成功 (receipt_lacks_entry)', async () => {
  const wx = installWx();
  const log = new FakeLog('v5-abcdef01');
  wx.__route('POST', '/api/v1/votes/5/ballots', ({ body }) => {
    const receipt = log.cast(body);
    delete receipt.entry;
    return ok(receipt, 201);
  });
  standard(wx, { log });
  const comp = await openPage('pages/votes/detail', { id: '5' });
  await castApprove(comp);
  assert.equal(text(comp, '.cast-success'), null);
  assert.match(text(comp, '#cast-warning'), /回执缺少日志条目/);
});

test('my receipts: consistent with the latest head', async () => {
  const wx = installWx();
  const { log } = standard(wx);
  const detail = await openPage('pages/votes/detail', { id: '5' });
  await castApprove(detail);
  log.cast({ ballot: { other: 1 }, public_key: 'x', signature: 'y' }); // others vote after
  log.cast({ ballot: { other: 2 }, public_key: 'x', signature: 'y' });
  const comp = await openPage('pages/votes/receipts', { id: '5' });
  assert.match(text(comp, '#check'), /^本机已核验：您保存的每张回执都包含在服务器最新签名的日志中/);
  assert.match(text(comp, '.latest-head'), /共 4 条/);
  assert.equal(all(comp, '.receipt-item').length, 1);
  assert.match(text(comp, '.receipt-item'), /日志第 1 条.*一致/);
});

test('my receipts: a split view is a red warning with the evidence to forward', async () => {
  const wx = installWx();
  const honest = new FakeLog('v5-abcdef01');
  const fork = new FakeLog('v5-abcdef01'); // same server key, another history
  let useFork = false;
  wx.__route('GET', '/api/v1/votes/5/tree-head', () => ok((useFork ? fork : honest).head()));
  standard(wx, { log: honest });
  const detail = await openPage('pages/votes/detail', { id: '5' });
  await castApprove(detail);
  assert.match(text(detail, '.cast-success'), /投票成功/);
  // The server now shows this phone a log of the same size in which another ballot sits at index 1.
  fork.cast({ ballot: { forged: true }, public_key: 'x', signature: 'y' });
  useFork = true;
  const comp = await openPage('pages/votes/receipts', { id: '5' });
  const warning = text(comp, '#check');
  assert.match(warning, /警告：服务器的回答未通过本机核验/);
  assert.match(warning, /分叉视图：两个签名树头大小相同而根不同/);
  assert.match(warning, /给不同的人看了不同的日志/);
  assert.match(warning, /"type": "linli-vote\/1 split view"/);
  const evidence = voteClient.splitEvidence('v5-abcdef01');
  assert.equal(L.checkSplitEvidence(evidence), true, 'the evidence stands on its own');
  comp.querySelector('#check').instance.copyEvidence(); // 复制证据
  assert.equal(JSON.parse(wx.__calls.clipboard[0]).reason, 'same_size_different_root');
});

test('my receipts: nothing kept on this phone is said plainly', async () => {
  const wx = installWx();
  standard(wx);
  const comp = await openPage('pages/votes/receipts', { id: '5' });
  assert.match(text(comp, '.no-receipts'), /本机没有这次表决的回执/);
});

test('votes list: empty lists say so', async () => {
  const wx = installWx();
  wx.__store.set('linli/community', '3');
  wx.__route('GET', '/api/v1/me/votes', () => ok({ items: [], page: 1, per_page: 50, total: 0 }));
  wx.__route('GET', '/api/v1/communities/3/votes', () => ok({ items: [], page: 1, per_page: 50, total: 0 }));
  standard(wx);
  const comp = await openPage('pages/votes/index', {});
  assert.equal(text(comp, '#state'), '暂无表决');
  assert.equal(all(comp, '.vote-open').length, 0);
});

test('the result: the signed tally verified on the phone, the outcome and the counts', async () => {
  const wx = installWx();
  const log = new FakeLog('v5-abcdef01');
  log.cast({ ballot: { b: 1 }, public_key: 'x', signature: 'y' });
  log.entries.push({ type: 'close', vote_id: log.voteId, closed_at: '2026-12-31T00:00:00Z' });
  const size = log.entries.length;
  const head = log.head(size);
  const closeReceipt = { vote_id: log.voteId, leaf_index: size - 1, leaf_hash: L.leafHash(log.entries[size - 1]), tree_head: head, inclusion_proof: log.inclusion(size - 1, size) };
  const tally = log.sign({
    type: 'tally', vote_id: log.voteId, size, root: head.root, totals: { area: 30000, heads: 3 }, turnout: { area: 20000, heads: 2 }, quorum: true,
    counts: { approve: { area: 20000, heads: 2 }, reject: { area: 0, heads: 0 }, abstain: { area: 0, heads: 0 } }, passed: true, paper: 0
  });
  let tamper = false;
  wx.__route('GET', '/api/v1/votes/5/tally', () => ok({ vote_id: 5, tally: tamper ? Object.assign({}, tally, { passed: false }) : tally, close_receipt: closeReceipt, notice: { text: '表决结果公告：通过', notice_id: 9 } }));
  standard(wx, { log, vote: { state: 'tallied' } });
  const comp = await openPage('pages/votes/result', { id: '5' });
  assert.equal(text(comp, '.outcome'), '通过');
  assert.match(text(comp, '#tally-check'), /本机已核验：计票结果有服务器签名/);
  assert.equal(text(comp, '.tally-turnout'), '200.00 m²，2 人');
  assert.equal(all(comp, '.tally-row').length, 3);
  assert.match(text(comp, '.result-notice'), /表决结果公告/);
  tamper = true;
  const bad = await openPage('pages/votes/result', { id: '5' });
  assert.match(text(bad, '#tally-check'), /计票结果的签名与表决定义中的服务器公钥不符/);
});

test('keys: this phone\'s key marked, a lost phone\'s key revoked', async () => {
  const wx = installWx();
  standard(wx);
  const mine = await voteClient.ensureKey();
  const lost = 'A'.repeat(43);
  const revoked = [];
  wx.__route('GET', '/api/v1/me/keys', () => ok({ items: [
    { public_key: mine.publicKey, created_at: '2026-11-27T08:00:00Z', revoked_at: null },
    { public_key: lost, created_at: '2026-10-01T08:00:00Z', revoked_at: revoked.length ? '2026-11-27T09:00:00Z' : null }
  ], page: 1, per_page: 50, total: 2 }));
  wx.__route('DELETE', /^\/api\/v1\/me\/keys\/(.+)$/, ({ match }) => { revoked.push(decodeURIComponent(match[1])); return { statusCode: 204 }; });
  const comp = await openPage('pages/votes/keys', {});
  const items = all(comp, '.key-item');
  assert.equal(items.length, 2);
  assert.match(items[0].dom.textContent, /本机/);
  assert.doesNotMatch(items[1].dom.textContent, /本机/);
  all(comp, '.key-revoke')[1].dispatchEvent('tap');
  await require('../test-support/fake-wx.js').settleAll(40);
  assert.deepEqual(revoked, [lost]);
  assert.match(all(comp, '.key-item')[1].dom.textContent, /已撤销/);
  assert.equal(voteClient.devicePublicKey(), mine.publicKey, 'this phone keeps its own key');
});

test('a key revoked elsewhere: the next cast makes and registers a new key, once', async () => {
  const wx = installWx();
  const log = new FakeLog('v5-abcdef01');
  let calls = 0;
  wx.__route('POST', '/api/v1/votes/5/ballots', ({ body }) => {
    calls += 1;
    return calls === 1 ? refuse(403, 'key_revoked', '该密钥已撤销') : ok(log.cast(body), 201);
  });
  const { state } = standard(wx, { log });
  const comp = await openPage('pages/votes/detail', { id: '5' });
  await castApprove(comp);
  assert.match(text(comp, '.cast-success'), /投票成功/);
  assert.equal(calls, 2);
  assert.equal(state.keys.length, 2, 'a second key registered');
  assert.notEqual(state.keys[0], state.keys[1]);
  assert.equal(voteClient.devicePublicKey(), state.keys[1]);
});

test('vote detail: a head that contradicts one this phone saw before is a red warning at once', async () => {
  const wx = installWx();
  const honest = new FakeLog('v5-abcdef01');
  honest.cast({ ballot: { a: 1 }, public_key: 'x', signature: 'y' });
  const fork = new FakeLog('v5-abcdef01');
  fork.cast({ ballot: { b: 2 }, public_key: 'x', signature: 'y' });
  const memory = new L.HeadMemory({ get: wx.getStorageSync, set: wx.setStorageSync });
  assert.equal(memory.update(fork.head(), { serverKey: fork.serverKey }).status, 'first');
  standard(wx, { log: honest });
  const comp = await openPage('pages/votes/detail', { id: '5' });
  assert.match(text(comp, '#head-warning'), /分叉视图：两个签名树头大小相同而根不同/);
  const fine = installWx();
  standard(fine);
  const ok2 = await openPage('pages/votes/detail', { id: '5' });
  assert.ok(!ok2.querySelector('#head-warning'));
});
