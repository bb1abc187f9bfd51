/**
 * Voting on the phone (docs/protocol.md, docs/votes.md), built on the protocol library
 * lib/linli-vote.js:
 *
 * - the device key: made on first use from 32 bytes of wx.getRandomValues, kept in the
 *   mini-program's own storage (never sent: only its public half is registered), registered with
 *   POST /api/v1/me/keys (idempotent: a retry after a lost answer changes nothing);
 * - cast: the ballot made and signed here, posted, and its receipt checked here *before* the page may
 *   say 投票成功: signed by the vote's pinned server key, the inclusion proof, and the logged entry
 *   being exactly the envelope this phone signed; then the receipt's tree head is shown to the
 *   HeadMemory (one growing log per vote, or split-view evidence);
 * - my receipts: kept per vote; re-checked against the latest signed head (consistency proofs);
 * - the result: the signed tally verified with the server key, the close receipt's head likewise.
 *
 * - [1.1] witnesses: after a cast (and on every re-check) the receipt is checked against the newest
 *   co-signed head (GET …/tree-head?cosigned=true): its witnesses' co-signatures, and a consistency
 *   proof from the receipt's head to it — "已获 N 位见证人联署", or waiting for the witnesses;
 * - [1.1] proxies: the owner signs a delegation naming the delegate's key (which reached this phone
 *   from the delegate's phone, QR code or pasted text with its fingerprint — never from the server),
 *   or its revocation, and checks the receipt; the delegate's own proxy key (POST /me/proxy-keys)
 *   and the cast with it, through the same cast flow.
 *
 * Storage: `linli/device-key` {seed, public_key, registered}, `linli/proxy-key` (the same form: the
 * delegate's key), `linli/receipts` {vote_id: [record]}, and the library's HeadMemory keys
 * `linli-vote/head/<vote_id>`, `linli-vote/split/<vote_id>`.
 */
'use strict';

var L = require('./linli-vote.js');
var api = require('./api.js');
var request = require('./request.js');

var KEY_STORE = 'linli/device-key';
var PROXY_KEY_STORE = 'linli/proxy-key';
var RECEIPT_STORE = 'linli/receipts';

var TEXT = {
  randomFailed: '无法取得安全随机数，不能生成密钥或选票',
  keyRevoked: '本机密钥已被撤销，已生成新密钥',
  noDefinition: '表决尚未开始，没有表决定义',
  tallySignature: '计票结果的签名与表决定义中的服务器公钥不符',
  tallyHead: '计票结果的日志根与关闭回执的树头不符',
  noProxyKey: '本机没有这份委托指定的代理人密钥（委托须指定本机显示的代理人密钥）',
  cosignedInconsistent: '见证人联署的树头与回执的树头不一致：服务器给见证人看的日志可能不同',
  delegateKeyInvalid: '代理人公钥无效，请重新扫码或粘贴'
};

function storage() {
  return {
    get: function (key) { return wx.getStorageSync(key); },
    set: function (key, value) { wx.setStorageSync(key, value); }
  };
}

/** A refusal made on this phone, shown like the server's (request.messageOf gives its Chinese text). */
function phoneRefusal(code, message) {
  return new request.ApiError(0, code, message);
}

/** n bytes from wx.getRandomValues (the only source of randomness in the app). */
function randomBytes(n) {
  return new Promise(function (resolve, reject) {
    wx.getRandomValues({
      length: n,
      success: function (res) {
        var bytes = new Uint8Array(res.randomValues);
        if (bytes.length !== n) return reject(new Error(TEXT.randomFailed));
        resolve(bytes);
      },
      fail: function () { reject(new Error(TEXT.randomFailed)); }
    });
  });
}

// ---- the device key -------------------------------------------------------------------------------

function storedKey(store) {
  var record = wx.getStorageSync(store || KEY_STORE);
  if (!record || typeof record !== 'object' || typeof record.seed !== 'string') return null;
  try {
    var seed = L.b64uDecode(record.seed);
    if (seed.length !== 32) return null;
    var pair = L.keyPairFromSeed(seed);
    if (pair.publicKey !== record.public_key) return null;
    return { publicKey: pair.publicKey, secretKey: pair.secretKey, registered: !!record.registered };
  } catch (e) {
    return null;
  }
}

/** This phone's public key (b64u), or null when none was made yet. */
function devicePublicKey() {
  var key = storedKey();
  return key ? key.publicKey : null;
}

function saveKey(seed, publicKey, registered, store) {
  wx.setStorageSync(store || KEY_STORE, { seed: L.b64uEncode(seed), public_key: publicKey, registered: registered });
}

function newKey(store) {
  return randomBytes(32).then(function (seed) {
    var pair = L.keyPairFromSeed(seed);
    saveKey(seed, pair.publicKey, false, store);
    return { publicKey: pair.publicKey, secretKey: pair.secretKey, registered: false, seed: seed };
  });
}

/**
 * The device key, made on first use and registered (POST /me/keys). A key the server says was
 * revoked (a lost phone's key revoked from another phone, say) is replaced by a new one.
 * Resolves {publicKey, secretKey, created, replaced}.
 */
function ensureKey() {
  var key = storedKey();
  var created = false;
  var start = key ? Promise.resolve(key) : newKey().then(function (k) { created = true; return k; });
  return start.then(function (k) {
    if (k.registered) return { publicKey: k.publicKey, secretKey: k.secretKey, created: false, replaced: false };
    return register(k).then(function () {
      return { publicKey: k.publicKey, secretKey: k.secretKey, created: created, replaced: false };
    }, function (error) {
      if (error && error.code === 'key_revoked') {
        return forgetKey().then(newKey).then(function (fresh) {
          return register(fresh).then(function () {
            return { publicKey: fresh.publicKey, secretKey: fresh.secretKey, created: true, replaced: true };
          });
        });
      }
      throw error;
    });
  });
}

function register(key) {
  return api.registerKey(key.publicKey).then(function (answer) {
    var record = wx.getStorageSync(KEY_STORE);
    saveKey(L.b64uDecode(record.seed), key.publicKey, true);
    return answer;
  });
}

function forgetKey() {
  wx.removeStorageSync(KEY_STORE);
  return Promise.resolve();
}

/**
 * The caller's keys (GET /me/keys) with `mine` marking this phone's. Revoking this phone's own key
 * forgets it here too (the next cast makes a new one).
 */
function listKeys() {
  var mine = devicePublicKey();
  var proxy = storedKey(PROXY_KEY_STORE);
  return api.myKeys().then(function (page) {
    return (page.items || []).map(function (k) {
      // [1.1] The proxy key (POST /me/proxy-keys) is listed with the device keys: marked, not mistaken for a lost phone's.
      return Object.assign({}, k, { mine: k.public_key === mine, proxy: !!proxy && k.public_key === proxy.publicKey, revoked: !!k.revoked_at });
    });
  });
}

function revokeKey(publicKey) {
  return api.revokeKey(publicKey).then(function (answer) {
    if (publicKey === devicePublicKey()) wx.removeStorageSync(KEY_STORE);
    var proxy = storedKey(PROXY_KEY_STORE);
    if (proxy && publicKey === proxy.publicKey) wx.removeStorageSync(PROXY_KEY_STORE);
    return answer;
  });
}

// ---- receipts -------------------------------------------------------------------------------------

function allReceipts() {
  var all = wx.getStorageSync(RECEIPT_STORE);
  return all && typeof all === 'object' ? all : {};
}

/** The receipts kept for a vote (its protocol vote_id), oldest first. */
function receiptsOf(voteId) {
  var list = allReceipts()[voteId];
  return Array.isArray(list) ? list : [];
}

function keepReceipt(record) {
  var all = allReceipts();
  var list = Array.isArray(all[record.vote_id]) ? all[record.vote_id] : [];
  list.push(record);
  all[record.vote_id] = list;
  wx.setStorageSync(RECEIPT_STORE, all);
}

// ---- tree heads -----------------------------------------------------------------------------------

function memory() {
  return new L.HeadMemory(storage());
}

/**
 * Show the phone's HeadMemory a signed head of vote `vid` (API id): fetches the consistency proof
 * between the remembered size and this one when they differ. Resolves the library's update result
 * ({ok, status, head, problems, evidence}).
 */
function observeHead(vid, definition, head) {
  var mem = memory();
  var remembered = mem.remembered(definition.vote_id);
  var bare = headOf(head);
  var need = remembered && bare && typeof bare.size === 'number' && bare.size > 0 && remembered.head.size !== bare.size;
  var proof = need
    ? api.consistency(vid, Math.min(remembered.head.size, bare.size), Math.max(remembered.head.size, bare.size))
      .then(function (answer) { return answer.consistency_proof; })
    : Promise.resolve(undefined);
  return proof.then(function (p) {
    return mem.update(head, { serverKey: definition.server_key, proof: p, voteId: definition.vote_id, definition: definition });
  });
}

/** The tree head of GET …/tree-head's answer ({tree_head, cosignatures, …}) or of a bare head. */
function headOf(view) {
  return view && typeof view === 'object' && view.tree_head ? view.tree_head : view;
}

// ---- [1.1] witnesses ------------------------------------------------------------------------------

/** The vote's witnesses for the page: {versioned: 1.1?, witnesses: [{id, name}], quorum}, or null for linli-vote/1. */
function witnessInfo(definition) {
  var who = L.witnessesOf(definition);
  if (!who.ok || who.protocol !== L.PROTOCOL_1_1) return null;
  return { witnesses: who.witnesses.map(function (w) { return { id: w.id, name: w.name }; }), quorum: who.quorum };
}

/**
 * A receipt against the newest co-signed head (docs/protocol.md §6.4 "Receipts and co-signed
 * heads"). Resolves {status, count, names, size, problems}:
 *   'none'     a linli-vote/1 vote or one without witnesses: nothing to wait for;
 *   'waiting'  no co-signed head yet, or the newest is older than the receipt's head;
 *   'cosigned' the newest co-signed head (quorum of valid co-signatures) is at least as large as the
 *              receipt's and the server's consistency proof shows the receipt's head is its prefix:
 *              the witnesses saw a log that holds this entry;
 *   'invalid'  the co-signed head does not check, or the proof fails (problems say why).
 */
function witnessCheck(vid, definition, receipt) {
  var info = witnessInfo(definition);
  var mine = receipt && receipt.tree_head;
  if (!info || !info.witnesses.length || !mine) return Promise.resolve({ status: 'none', count: 0, names: [], size: 0, problems: [] });
  return api.treeHead(vid, true).then(function (view) {
    var head = view.tree_head;
    var check = L.checkCosignedHead(head, view.cosignatures, definition);
    var names = check.cosigned.map(function (id) {
      return info.witnesses.filter(function (w) { return w.id === id; })[0].name;
    });
    var out = { status: 'cosigned', count: check.cosigned.length, names: names, size: head && head.size, problems: [] };
    if (!check.ok) {
      out.status = 'invalid';
      out.problems = check.problems;
      return out;
    }
    if (head.size < mine.size) {
      out.status = 'waiting';
      return out;
    }
    var proof = head.size === mine.size ? Promise.resolve([])
      : api.consistency(vid, mine.size, head.size).then(function (answer) { return answer.consistency_proof; });
    return proof.then(function (p) {
      if (!L.verifyConsistency(mine.size, head.size, mine.root, head.root, p)) {
        out.status = 'invalid';
        out.problems = [{ code: 'cosigned_inconsistent', message: TEXT.cosignedInconsistent }];
        return out;
      }
      return observeHead(vid, definition, view).then(function (seen) {
        if (!seen.ok) {
          out.status = 'invalid';
          out.problems = seen.problems;
          out.evidence = seen.evidence;
        }
        return out;
      });
    });
  }, function (error) {
    if (error && error.code === 'no_cosigned_head') return { status: 'waiting', count: 0, names: [], size: 0, problems: [] };
    throw error;
  });
}

/** Split-view evidence recorded for a vote, or null. */
function splitEvidence(voteId) {
  return memory().splitEvidence(voteId);
}

// ---- casting --------------------------------------------------------------------------------------

/**
 * Make, sign and cast a ballot, then check the receipt on this phone.
 * vote: the API's vote (GET /votes/<vid>, with `definition`); right: one of its my_rights (or, for a
 * proxy, {right_id, label} of GET /me/proxies); choice: {option} or {approve: [...]}.
 * options: {proxy: true} casts with this phone's proxy key (castAsProxy), not the device key.
 * Resolves {ok, problems: [{code, message}], record, head (the HeadMemory result), evidence,
 * witnessed (see witnessCheck)}. ok is true only if the receipt checks and its head is consistent
 * with every head seen before; the witnesses' co-signature may come later (witnessed.status).
 * Rejects with the server's ApiError when the ballot is refused (the Chinese reason in .message).
 */
function cast(vote, right, choice, options) {
  var definition = vote.definition;
  if (!definition || !definition.vote_id) return Promise.reject(new Error(TEXT.noDefinition));
  var asProxy = !!(options && options.proxy);
  var tries = 0;
  var attempt = function () {
    tries += 1;
    var key = asProxy ? proxySigningKey(right.delegate_key) : ensureKey();
    return key.then(function (k) {
      return randomBytes(16).then(function (nonce) {
        var ballot = L.newBallot({ voteId: definition.vote_id, rightId: right.right_id, choice: choice, nonceBytes: nonce, signedAt: new Date() }, definition);
        var envelope = L.signBallot(ballot, k.secretKey);
        return api.castBallot(vote.id, envelope).then(function (receipt) {
          return { envelope: envelope, receipt: receipt, key: k };
        });
      });
    }).catch(function (error) {
      // A key revoked since it was registered here (from another phone): a new key, once.
      if (!asProxy && error && error.code === 'key_revoked' && tries === 1) {
        return forgetKey().then(attempt);
      }
      throw error;
    });
  };
  return attempt().then(function (sent) {
    return checkAndKeep(vote, sent, {
      kind: 'ballot', right_id: right.right_id, right_label: right.label, choice: choice, proxy: asProxy
    });
  });
}

/** Cast for a right this phone holds a proxy for (proxy: an item of GET /me/proxies), with the proxy key. */
function castAsProxy(vote, proxy, choice) {
  return cast(vote, proxy, choice, { proxy: true });
}

// The receipt of an envelope this phone signed: checked, its head shown to HeadMemory, the witnesses
// asked (1.1), the record kept either way with its verdict.
function checkAndKeep(vote, sent, fields) {
  var definition = vote.definition;
  var check = L.checkReceipt(sent.receipt, { definition: definition, envelope: sent.envelope });
  var headStep = check.ok ? observeHead(vote.id, definition, sent.receipt.tree_head) : Promise.resolve(null);
  return headStep.then(function (head) {
    var witnessed = check.ok && head && head.ok ? witnessCheck(vote.id, definition, sent.receipt).catch(function () { return null; }) : Promise.resolve(null);
    return witnessed.then(function (w) {
      var problems = check.problems.concat(head && !head.ok ? head.problems : []).concat(w && w.status === 'invalid' ? w.problems : []);
      var record = Object.assign({
        vid: vote.id,
        vote_id: definition.vote_id,
        title: vote.title,
        envelope: sent.envelope,
        receipt: sent.receipt,
        cast_at: new Date().toISOString(),
        ok: problems.length === 0,
        problems: problems,
        witnessed: w ? { status: w.status, count: w.count, size: w.size } : null
      }, fields);
      keepReceipt(record);
      var evidence = (head && head.evidence) || (w && w.evidence) || null;
      return { ok: record.ok, problems: problems, record: record, head: head, evidence: evidence, witnessed: w };
    });
  });
}

/**
 * Re-check every receipt kept for vote `vid` against the latest signed head: each receipt's head and
 * the latest one are shown to the HeadMemory in turn, each step proved by a consistency proof from
 * the server; [1.1] then the newest receipt against the newest co-signed head.
 * Resolves {vote, latest, latestStatus, latestOk, latestProblems, receipts: [{record, status, ok,
 * problems}], evidence, witnessed}.
 */
function recheck(vid) {
  return api.vote(vid).then(function (vote) {
    var definition = vote.definition;
    if (!definition) return { vote: vote, latest: null, receipts: [], evidence: null, witnessed: null };
    var records = receiptsOf(definition.vote_id).slice().sort(function (a, b) {
      return a.receipt.tree_head.size - b.receipt.tree_head.size;
    });
    var results = [];
    var chain = Promise.resolve();
    records.forEach(function (record) {
      chain = chain.then(function () {
        var check = L.checkReceipt(record.receipt, { definition: definition, envelope: record.envelope });
        if (!check.ok) {
          results.push({ record: record, status: 'invalid', ok: false, problems: check.problems });
          return null;
        }
        return observeHead(vid, definition, record.receipt.tree_head).then(function (seen) {
          results.push({ record: record, status: seen.status, ok: seen.ok, problems: seen.problems });
        });
      });
    });
    var latest = null;
    var latestResult = null;
    var witnessed = null;
    return chain.then(function () {
      return api.treeHead(vid);
    }).then(function (view) {
      latest = headOf(view);
      return observeHead(vid, definition, view);
    }).then(function (seen) {
      latestResult = seen;
      var newest = records.length ? records[records.length - 1] : null;
      // The witnesses' answer is extra: a failure to fetch it leaves the re-check as it was (witnessed null).
      return newest && results.every(function (r) { return r.ok; }) ? witnessCheck(vid, definition, newest.receipt).catch(function () { return null; }) : null;
    }).then(function (w) {
      witnessed = w;
      var latestProblems = latestResult.problems.concat(w && w.status === 'invalid' ? w.problems : []);
      return {
        vote: vote,
        latest: latest,
        latestStatus: latestResult.status,
        latestOk: latestResult.ok && latestProblems.length === 0,
        latestProblems: latestProblems,
        receipts: results,
        witnessed: witnessed,
        evidence: splitEvidence(definition.vote_id) || (latestResult && latestResult.evidence) || (w && w.evidence) || null
      };
    });
  });
}

// ---- [1.1] proxies: the owner's side ----------------------------------------------------------------

/** The caller's rights in a vote with their proxies (GET …/delegations), each delegate with its fingerprint. */
function delegations(vid) {
  return api.delegations(vid).then(function (answer) {
    answer.rights.forEach(function (r) {
      if (r.delegate && L.isPublicKey(r.delegate.public_key)) r.delegate.fingerprint = L.keyFingerprint(r.delegate.public_key);
    });
    return answer;
  });
}

function signProxyEntry(vote, right, delegateKey, revoke) {
  var definition = vote.definition;
  if (!definition || !definition.vote_id) return Promise.reject(new Error(TEXT.noDefinition));
  if (!L.isPublicKey(delegateKey)) return Promise.reject(phoneRefusal('delegate_key_invalid', TEXT.delegateKeyInvalid));
  return ensureKey().then(function (key) {
    return randomBytes(16).then(function (nonce) {
      var args = { voteId: definition.vote_id, rightId: right.right_id, delegateKey: delegateKey, nonceBytes: nonce, signedAt: new Date() };
      var signed = revoke ? L.newRevocation(args, definition) : L.newDelegation(args, definition);
      var envelope = L.signDelegation(signed, key.secretKey);
      var post = revoke ? api.revokeDelegation(vote.id, envelope) : api.delegate(vote.id, envelope);
      return post.then(function (receipt) { return { envelope: envelope, receipt: receipt, key: key }; });
    });
  }).then(function (sent) {
    return checkAndKeep(vote, sent, {
      kind: revoke ? 'delegation_revocation' : 'delegation', right_id: right.right_id, right_label: right.label,
      choice: null, delegate_key: delegateKey
    });
  });
}

/**
 * Name a proxy for one of my rights: delegateKey is the delegate's public key as it reached this
 * phone from the delegate's phone (L.parseProxyKeyText of the scanned or pasted text, its fingerprint
 * compared). Signed with this phone's device key, posted, the receipt checked as a ballot's.
 * Resolves as cast does.
 */
function delegate(vote, right, delegateKey) {
  return signProxyEntry(vote, right, delegateKey, false);
}

/** Take the proxy of delegateKey back (a signed revocation); resolves as cast does. */
function revokeDelegation(vote, right, delegateKey) {
  return signProxyEntry(vote, right, delegateKey, true);
}

// ---- [1.1] proxies: the delegate's side -------------------------------------------------------------

/** This phone's proxy key for showing: {publicKey, text (QR payload), fingerprint, registered}, or null. */
function proxyKey() {
  var key = storedKey(PROXY_KEY_STORE);
  if (!key) return null;
  return { publicKey: key.publicKey, text: L.proxyKeyText(key.publicKey), fingerprint: L.keyFingerprint(key.publicKey), registered: key.registered };
}

/**
 * The delegate's key: made on this phone from wx.getRandomValues on first use (like the device key),
 * registered with POST /me/proxy-keys (idempotent). A key the server says was revoked is replaced.
 * Resolves proxyKey().
 */
function ensureProxyKey() {
  var key = storedKey(PROXY_KEY_STORE);
  var start = key ? Promise.resolve(key) : newKey(PROXY_KEY_STORE);
  var registerIt = function (k) {
    if (k.registered) return Promise.resolve();
    return api.registerProxyKey(k.publicKey).then(function () {
      var record = wx.getStorageSync(PROXY_KEY_STORE);
      saveKey(L.b64uDecode(record.seed), k.publicKey, true, PROXY_KEY_STORE);
    });
  };
  return start.then(function (k) {
    return registerIt(k).catch(function (error) {
      if (error && error.code === 'key_revoked') {
        wx.removeStorageSync(PROXY_KEY_STORE);
        return newKey(PROXY_KEY_STORE).then(registerIt);
      }
      throw error;
    });
  }).then(proxyKey);
}

/** The key this phone signs with as the proxy named by delegateKey: its proxy key, or its device key if named. */
function proxySigningKey(delegateKey) {
  var candidates = [storedKey(PROXY_KEY_STORE), storedKey(KEY_STORE)];
  for (var i = 0; i < candidates.length; i++) {
    if (candidates[i] && candidates[i].publicKey === delegateKey) return Promise.resolve(candidates[i]);
  }
  return Promise.reject(phoneRefusal('no_proxy_key', TEXT.noProxyKey)); // shown to the user as it is
}

/** Votes I hold a proxy for (GET /me/proxies), each with whether this phone holds the named key. */
function myProxies() {
  var mine = [storedKey(PROXY_KEY_STORE), storedKey(KEY_STORE)].filter(Boolean).map(function (k) { return k.publicKey; });
  return api.myProxies().then(function (list) {
    return list.map(function (p) { return Object.assign({}, p, { here: mine.indexOf(p.delegate_key) >= 0 }); });
  });
}

// ---- the result -----------------------------------------------------------------------------------

/**
 * The signed tally of a closed vote, verified here: the tally's signature by the vote's server key,
 * its size and root equal to the close receipt's tree head, that receipt's inclusion proof, and the
 * final head shown to the HeadMemory. Resolves {vote, tally, notice, ok, problems, head}.
 */
function result(vid) {
  return api.vote(vid).then(function (vote) {
    return api.tally(vid).then(function (answer) {
      var definition = vote.definition;
      var problems = [];
      var tally = answer.tally;
      if (!L.verifyObject(definition.server_key, tally)) problems.push({ code: 'tally_signature', message: TEXT.tallySignature });
      var closeReceipt = answer.close_receipt;
      var head = closeReceipt && closeReceipt.tree_head;
      if (!head || head.size !== tally.size || head.root !== tally.root) problems.push({ code: 'tally_head', message: TEXT.tallyHead });
      var inclusion = head && L.verifyInclusion(closeReceipt.leaf_index, head.size, closeReceipt.leaf_hash, closeReceipt.inclusion_proof, head.root);
      if (head && !inclusion) problems.push({ code: 'inclusion_failed', message: L.PROBLEMS.inclusion_failed });
      var heads = head ? L.treeHeadProblems(head, definition.server_key, definition.vote_id) : [];
      problems = problems.concat(heads);
      var step = head && !heads.length ? observeHead(vid, definition, head) : Promise.resolve(null);
      return step.then(function (seen) {
        if (seen && !seen.ok) problems = problems.concat(seen.problems);
        return { vote: vote, tally: tally, notice: answer.notice, ok: problems.length === 0, problems: problems, head: seen };
      });
    });
  });
}

module.exports = {
  KEY_STORE: KEY_STORE,
  PROXY_KEY_STORE: PROXY_KEY_STORE,
  RECEIPT_STORE: RECEIPT_STORE,
  randomBytes: randomBytes,
  devicePublicKey: devicePublicKey,
  ensureKey: ensureKey,
  listKeys: listKeys,
  revokeKey: revokeKey,
  receiptsOf: receiptsOf,
  allReceipts: allReceipts,
  observeHead: observeHead,
  splitEvidence: splitEvidence,
  cast: cast,
  castAsProxy: castAsProxy,
  recheck: recheck,
  headOf: headOf,
  witnessInfo: witnessInfo,
  witnessCheck: witnessCheck,
  delegations: delegations,
  delegate: delegate,
  revokeDelegation: revokeDelegation,
  proxyKey: proxyKey,
  ensureProxyKey: ensureProxyKey,
  myProxies: myProxies,
  result: result
};
