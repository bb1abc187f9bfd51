'use strict';
// [1.1] What residents see of witnesses and proxies (miniprogram-simulate against a fake wx and a
// fake log with witnesses): the vote's witnesses and quorum, a receipt co-signed or waiting, a
// forged co-signature caught; the owner giving a proxy (key scanned or pasted, fingerprints
// compared, delegation signed here) and taking it back; the delegate's key as a QR code, the votes
// held as proxy, and the cast with the proxy key.
const test = require('node:test');
const assert = require('node:assert/strict');
const { installWx, openPage, text, all, tap } = require('../test-support/pages.js');
const { standard, ok, refuse } = require('../test-support/fake-server.js');
const { FakeLog } = require('../test-support/fake-log.js');
const { L, clone } = require('../test-support/helpers.js');
const voteClient = require('../lib/vote-client.js');
const qr = require('../lib/qr.js');

const WITNESSES = ['幸福街道办事处', '幸福社区居民委员会', '业委会委员 刘洋'];

function witnessedLog() {
  return new FakeLog('v5-abcdef01', { witnesses: WITNESSES, quorum: 2 });
}

async function castApprove(comp) {
  comp.instance.pickOption({ detail: { value: 'approve' } });
  await tap(comp, '.cast-button');
}

/** The server's proxy routes for right r1 of vote 5 (the owner's) and the delegate's list. */
function proxyRoutes(wx, log, state) {
  state.delegate = null;
  state.posted = [];
  wx.__route('GET', '/api/v1/votes/5/delegations', () => ok({ id: 5, vote_id: log.voteId, rights: [{ right_id: 'r1', label: '3-1-101', delegate: state.delegate }] }));
  wx.__route('POST', '/api/v1/votes/5/delegations', ({ body }) => {
    if (!L.verifyDelegation(body, log.definition)) return refuse(422, 'bad_signature', '签名无效，与签名内容不符');
    state.posted.push(body);
    const receipt = log.append({ type: 'delegation', received_at: '2026-11-27T08:00:00Z', envelope: body });
    state.delegate = { public_key: body.delegation.delegate_key, phone: '139****0002', leaf_index: receipt.leaf_index, used: false };
    return ok(receipt, 201);
  });
  wx.__route('POST', '/api/v1/votes/5/delegation-revocations', ({ body }) => {
    if (!L.verifyDelegation(body, log.definition)) return refuse(422, 'bad_signature', '签名无效，与签名内容不符');
    if (!state.delegate || state.delegate.public_key !== body.delegation_revocation.delegate_key) return refuse(409, 'no_active_delegation', '该表决权没有这位代理人的有效委托');
    state.posted.push(body);
    state.delegate = null;
    return ok(log.append({ type: 'delegation_revocation', received_at: '2026-11-27T08:00:00Z', envelope: body }), 201);
  });
}

function delegateKey(label) {
  return L.keyPairFromSeed(Uint8Array.from(require('crypto').createHash('sha256').update('delegate ' + label).digest())).publicKey;
}

test('vote detail (1.1): the witnesses and quorum; after a cast, 已获 2 位见证人联署 once the witnesses co-signed', async () => {
  const wx = installWx();
  const log = witnessedLog();
  wx.__route('POST', '/api/v1/votes/5/ballots', ({ body }) => {
    const receipt = log.cast(body);
    log.cosign(0);
    log.cosign(2);
    return ok(receipt, 201);
  });
  standard(wx, { log });
  const comp = await openPage('pages/votes/detail', { id: '5' });
  assert.equal(text(comp, '.witness-names'), WITNESSES.join('、'));
  assert.match(text(comp, '.witness-quorum'), /须有其中 2 位见证人联署/);
  assert.ok(comp.querySelector('.go-proxy'), 'a 1.1 vote offers the proxy page');
  await castApprove(comp);
  assert.match(text(comp, '.cast-success'), /^投票成功/);
  assert.match(text(comp, '.cast-witness'), /已获 2 位见证人联署.*幸福街道办事处、业委会委员 刘洋/);
  const kept = voteClient.receiptsOf(log.voteId)[0];
  assert.deepEqual(kept.witnessed, { status: 'cosigned', count: 2, size: 2 });
});

test('vote detail (1.1): waiting for the witnesses; later the receipts page shows the co-signature', async () => {
  const wx = installWx();
  const log = witnessedLog();
  standard(wx, { log });
  const comp = await openPage('pages/votes/detail', { id: '5' });
  await castApprove(comp);
  assert.match(text(comp, '.cast-success'), /^投票成功/);
  assert.match(text(comp, '.cast-witness'), /等待见证人联署/);
  let receipts = await openPage('pages/votes/receipts', { id: '5' });
  assert.match(text(receipts, '.witness-status'), /正在等待见证人联署/);
  log.cosign(1);
  log.cosign(2);
  receipts = await openPage('pages/votes/receipts', { id: '5' });
  assert.match(text(receipts, '.witness-status'), /已获 2 位见证人联署（幸福社区居民委员会、业委会委员 刘洋）.*共 2 条/);
  assert.match(text(receipts, '.receipts-check'), /本机已核验/);
  // An older co-signed head (before the ballot) is still waiting, not a warning.
  log.cast(JSON.parse(JSON.stringify(voteClient.receiptsOf(log.voteId)[0].envelope)));
  receipts = await openPage('pages/votes/receipts', { id: '5' });
  assert.match(text(receipts, '.witness-status'), /已获 2 位/);
});

test('a forged co-signature in the server\'s answer is a red warning, never 投票成功', async () => {
  const wx = installWx();
  const log = witnessedLog();
  wx.__route('POST', '/api/v1/votes/5/ballots', ({ body }) => {
    const receipt = log.cast(body);
    log.cosign(0);
    const forged = clone(log.cosign(1));
    forged.witness = 'w-2'; // w-1's signature passed off as w-2's
    log.cosignatures.push(forged);
    return ok(receipt, 201);
  });
  standard(wx, { log });
  const comp = await openPage('pages/votes/detail', { id: '5' });
  await castApprove(comp);
  assert.equal(text(comp, '.cast-success'), null);
  assert.match(text(comp, '#cast-warning'), /见证人联署的签名与见证人公钥不符/);
});

test('vote detail (linli-vote/1): no witnesses, no proxy link, nothing to wait for', async () => {
  const wx = installWx();
  standard(wx);
  const comp = await openPage('pages/votes/detail', { id: '5' });
  assert.equal(comp.querySelector('.witnesses'), undefined);
  assert.equal(comp.querySelector('.go-proxy'), undefined);
  await castApprove(comp);
  assert.match(text(comp, '.cast-success'), /^投票成功/);
  assert.equal(text(comp, '.cast-witness'), null);
});

test('giving a proxy: the delegate\'s key scanned, its fingerprint compared, the delegation signed here; then revoked', async () => {
  const key = delegateKey('daughter');
  const wx = installWx({ scan: L.proxyKeyText(key) });
  const log = new FakeLog('v5-abcdef01', { protocol: 'linli-vote/1.1' });
  const { state } = standard(wx, { log });
  proxyRoutes(wx, log, state);
  const comp = await openPage('pages/votes/proxy', { id: '5' });
  assert.match(text(comp, '.right-item'), /3-1-101.*本人投票/);
  await tap(comp, '.scan-delegate');
  assert.equal(text(comp, '.pending-fingerprint'), L.keyFingerprint(key));
  assert.equal(state.posted.length, 0, 'nothing is signed before the fingerprints are compared');
  await tap(comp, '.confirm-delegate');
  assert.match(text(comp, '.proxy-done'), /已委托：3-1-101.*本机已核验回执/);
  const envelope = state.posted[0];
  assert.equal(envelope.delegation.delegate_key, key);
  assert.equal(envelope.delegation.right_id, 'r1');
  assert.equal(envelope.public_key, voteClient.devicePublicKey(), 'signed with this phone\'s device key');
  assert.deepEqual(state.keys, [envelope.public_key], 'the device key registered first');
  assert.ok(L.verifyDelegation(envelope, log.definition));
  assert.match(text(comp, '.delegate-info'), new RegExp('139\\*\\*\\*\\*0002 · 密钥指纹 ?' + L.keyFingerprint(key)));
  assert.match(text(comp, '.delegate-used'), /代理人尚未投票/);
  const kept = voteClient.receiptsOf(log.voteId);
  assert.deepEqual(kept.map((r) => [r.kind, r.ok]), [['delegation', true]]);

  // The proxy votes; the owner sees `used`, never the choice.
  state.delegate.used = true;
  await comp.instance.refresh();
  assert.match(text(comp, '.delegate-used'), /代理人已投票/);

  await tap(comp, '.revoke-delegation');
  assert.match(wx.__calls.modal[wx.__calls.modal.length - 1].title, /撤销委托/);
  assert.equal(state.posted[1].delegation_revocation.delegate_key, key);
  assert.match(text(comp, '.proxy-done'), /已撤销 3-1-101 的委托/);
  assert.match(text(comp, '.right-item'), /本人投票/);
  assert.deepEqual(voteClient.receiptsOf(log.voteId).map((r) => [r.kind, r.ok]), [['delegation', true], ['delegation_revocation', true]]);
  // The receipts page re-checks both.
  const receipts = await openPage('pages/votes/receipts', { id: '5' });
  assert.deepEqual(all(receipts, '.receipt-item').map((x) => /委托代理人|撤销委托/.test(x.dom.textContent)), [true, true]);
  assert.match(text(receipts, '.receipts-check'), /本机已核验/);
  const detail = await openPage('pages/votes/detail', { id: '5' });
  const previous = all(detail, '.previous-item').map((x) => x.dom.textContent);
  assert.equal(previous.length, 2);
  assert.match(previous[0], /3-1-101\s*委托代理人$/);
  assert.match(previous[1], /3-1-101\s*撤销委托$/);
});

test('giving a proxy: a foreign QR code is refused; pasted text with spaces works; a refusal shows the reason', async () => {
  const key = delegateKey('neighbour');
  const wx = installWx({ scan: 'linli-console-login:abc' });
  const log = new FakeLog('v5-abcdef01', { protocol: 'linli-vote/1.1' });
  const { state } = standard(wx, { log });
  wx.__route('POST', '/api/v1/votes/5/delegations', () => refuse(422, 'delegate_ineligible', '代理人须为本小区已验证手机号的用户，并已登记该密钥'));
  proxyRoutes(wx, log, state);
  const comp = await openPage('pages/votes/proxy', { id: '5' });
  await tap(comp, '.scan-delegate');
  assert.match(text(comp, '.key-error'), /不是邻里代理人密钥/);
  assert.equal(comp.querySelector('.proxy-confirm'), undefined);
  await tap(comp, '.paste-delegate');
  comp.instance.pasteInput({ detail: { value: ' linli-proxy-key:\n' + key.slice(0, 21) + ' ' + key.slice(21) } });
  await tap(comp, '.use-paste');
  assert.equal(text(comp, '.pending-fingerprint'), L.keyFingerprint(key));
  await tap(comp, '.confirm-delegate');
  assert.equal(text(comp, '.proxy-refused'), '委托未被接受：代理人须为本小区已验证手机号的用户，并已登记该密钥');
  assert.equal(text(comp, '.proxy-done'), null);
});

test('the delegate: a proxy key made and registered, shown as a QR code and fingerprint; votes held as proxy; the cast with the proxy key', async () => {
  const wx = installWx();
  const log = new FakeLog('v5-abcdef01', { protocol: 'linli-vote/1.1' });
  const { state } = standard(wx, { log, vote: { my_rights: [] } });
  state.proxyKeys = [];
  wx.__route('POST', '/api/v1/me/proxy-keys', ({ body }) => {
    state.proxyKeys.push(body.public_key);
    return ok({ public_key: body.public_key, created_at: '2026-11-27T08:00:00Z', revoked_at: null }, 201);
  });
  wx.__route('GET', '/api/v1/me/proxies', () => ok(state.proxyKeys.length ? [{
    id: 5, vote_id: log.voteId, title: '更换3号楼电梯', closes_at: '2026-12-31T00:00:00Z', right_id: 'r2', label: '3-1-202',
    area: 10020, heads: 1, delegate_key: state.proxyKeys[0], leaf_index: 1, used: state.ballots.length > 0
  }] : []));
  const comp = await openPage('pages/votes/proxy-key');
  assert.match(text(comp, '#state'), /还没有业主委托您投票/);
  assert.equal(comp.querySelector('.proxy-key'), undefined);
  await tap(comp, '.make-proxy-key');
  assert.equal(state.proxyKeys.length, 1);
  const shown = voteClient.proxyKey();
  assert.equal(shown.publicKey, state.proxyKeys[0]);
  assert.equal(text(comp, '.key-fingerprint'), L.keyFingerprint(shown.publicKey));
  assert.equal(text(comp, '.key-text'), 'linli-proxy-key:' + shown.publicKey);
  const m = qr.matrix(shown.text);
  const code = comp.querySelector('#proxy-qr');
  assert.equal(code.querySelectorAll('.qr-cell').length, m.size * m.size);
  assert.equal(code.querySelectorAll('.qr-dark').length, m.rows.reduce((n, row) => n + row.filter(Boolean).length, 0));
  await tap(comp, '.copy-key');
  assert.deepEqual(wx.__calls.clipboard, [shown.text]);
  assert.equal(voteClient.devicePublicKey(), null, 'the proxy key is not the device key');

  // An owner named this key: the vote shows up, and opens the vote page as the proxy.
  await comp.instance.refresh();
  assert.match(text(comp, '.proxy-item'), /代 3-1-202（100.20 m²）投票.*尚未投票/);
  await tap(comp, '.cast-for');
  assert.deepEqual(wx.__calls.navigate, ['/pages/votes/detail?id=5&proxy=r2']);
  const detail = await openPage('pages/votes/detail', { id: '5', proxy: 'r2' });
  assert.match(text(detail, '.proxy-banner'), /代理投票.*3-1-202/);
  assert.equal(text(detail, '.proxy-not-here'), null);
  await castApprove(detail);
  assert.match(text(detail, '.cast-success'), /^投票成功/);
  assert.equal(state.ballots[0].public_key, shown.publicKey, 'signed with the proxy key');
  assert.equal(state.ballots[0].ballot.right_id, 'r2');
  assert.equal(state.keys.length, 0, 'no device key was made or registered');
  assert.deepEqual(voteClient.receiptsOf(log.voteId).map((r) => [r.kind, r.proxy, r.ok]), [['ballot', true, true]]);
  const again = await openPage('pages/votes/proxy-key');
  assert.match(text(again, '.proxy-used'), /您已代为投票/);
});

test('the delegate on another phone: the key named is not here, so the page says where to vote and does not sign', async () => {
  const wx = installWx();
  const log = new FakeLog('v5-abcdef01', { protocol: 'linli-vote/1.1' });
  const { state } = standard(wx, { log, vote: { my_rights: [] } });
  wx.__route('GET', '/api/v1/me/proxies', () => ok([{ id: 5, vote_id: log.voteId, title: '更换3号楼电梯', closes_at: '2026-12-31T00:00:00Z',
    right_id: 'r2', label: '3-1-202', area: 10020, heads: 1, delegate_key: delegateKey('elsewhere'), leaf_index: 1, used: false }]));
  const list = await openPage('pages/votes/proxy-key');
  assert.match(text(list, '.proxy-elsewhere'), /请用出示二维码的那部手机投票/);
  assert.equal(list.querySelector('.cast-for'), undefined);
  const detail = await openPage('pages/votes/detail', { id: '5', proxy: 'r2' });
  assert.match(text(detail, '.proxy-not-here'), /本机没有这份委托指定的代理人密钥/);
  await castApprove(detail);
  assert.match(text(detail, '.cast-refused'), /本机没有这份委托指定的代理人密钥/);
  assert.equal(state.ballots.length, 0);
  // A proxy that ended: nothing to cast for.
  const gone = await openPage('pages/votes/detail', { id: '5', proxy: 'r9' });
  assert.match(text(gone, '.proxy-missing'), /没有这项表决的有效委托/);
  assert.equal(gone.querySelector('.cast-form'), undefined);
});

test('the QR code the delegate\'s phone draws reads back as the key text (jsQR, as a camera would)', () => {
  const jsQR = require('jsqr');
  const key = delegateKey('qr');
  const m = qr.matrix(L.proxyKeyText(key));
  const scale = 4;
  const quiet = 4;
  const side = (m.size + 2 * quiet) * scale;
  const pixels = new Uint8ClampedArray(side * side * 4).fill(255);
  m.rows.forEach((row, r) => row.forEach((dark, c) => {
    if (!dark) return;
    for (let y = 0; y < scale; y++) {
      for (let x = 0; x < scale; x++) {
        const at = (((r + quiet) * scale + y) * side + (c + quiet) * scale + x) * 4;
        pixels[at] = pixels[at + 1] = pixels[at + 2] = 0;
      }
    }
  }));
  const read = jsQR(pixels, side, side);
  assert.ok(read, 'a QR code is found');
  assert.equal(read.data, 'linli-proxy-key:' + key);
  assert.equal(L.parseProxyKeyText(read.data), key);
});

test('the keys page marks this phone\'s proxy key (not a lost phone\'s), and revoking it forgets it here', async () => {
  const wx = installWx();
  const log = new FakeLog('v5-abcdef01', { protocol: 'linli-vote/1.1' });
  const { state } = standard(wx, { log });
  state.proxyKeys = [];
  wx.__route('POST', '/api/v1/me/proxy-keys', ({ body }) => {
    state.proxyKeys.push(body.public_key);
    return ok({ public_key: body.public_key, created_at: '2026-11-27T08:00:00Z', revoked_at: null }, 201);
  });
  wx.__route('GET', '/api/v1/me/keys', () => ok({ items: state.proxyKeys.map((k) => ({ public_key: k, created_at: '2026-11-27T08:00:00Z', revoked_at: state.revoked === k ? '2026-11-27T09:00:00Z' : null })) }));
  wx.__route('DELETE', /^\/api\/v1\/me\/keys\/(.+)$/, ({ match }) => {
    state.revoked = decodeURIComponent(match[1]);
    return ok({ public_key: state.revoked, revoked_at: '2026-11-27T09:00:00Z', entries: [] });
  });
  const key = await voteClient.ensureProxyKey();
  const comp = await openPage('pages/votes/keys');
  assert.match(text(comp, '.key-item'), /本机代理人密钥/);
  assert.equal(comp.querySelector('.key-mine'), undefined);
  assert.equal(text(comp, '.key-revoke'), '撤销代理人密钥');
  await tap(comp, '.key-revoke');
  assert.match(wx.__calls.modal[wx.__calls.modal.length - 1].content, /委托失效/);
  assert.equal(state.revoked, key.publicKey);
  assert.equal(voteClient.proxyKey(), null, 'forgotten on this phone: a new one is made next time');
});
