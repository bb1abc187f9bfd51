'use strict';
// What the mini-program ships — lib/ and the files WeChat DevTools' "构建 npm" packs from the runtime
// dependencies — must parse as ES2017 and use nothing newer: no BigInt, `?.`, `??`, `**`,
// Object.hasOwn. The packing rule is WeChat's own (miniprogram-ci 2.1.42, packnpm.js): a package with
// a `miniprogram` directory is copied whole; any other is packed from its `main` file (index.js by
// default) following relative require() calls only; anything else a file requires ("outside deps")
// is left to the mini-program's require at run time.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('fs');
const path = require('path');
const vm = require('vm');
const acorn = require('acorn');
const { fixture } = require('../test-support/helpers.js');

const ROOT = path.join(__dirname, '..');
const PKG = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const DEPENDENCIES = Object.keys(PKG.dependencies).sort();

function resolveRelative(from, spec) {
  // packnpm.js: join with the requiring file's folder; add .js unless present; a folder means index.js.
  let p = path.join(path.dirname(from), spec);
  if (!p.endsWith('.js') && !p.endsWith('.json') && fs.existsSync(p + '.js')) p += '.js';
  if (fs.existsSync(p) && fs.statSync(p).isDirectory()) p = path.join(p, 'index.js');
  if (!p.endsWith('.js') && !p.endsWith('.json')) p += '.js';
  return p;
}

function walk(node, visit) {
  visit(node);
  for (const key of Object.keys(node)) {
    const value = node[key];
    if (Array.isArray(value)) value.forEach((v) => v && typeof v.type === 'string' && walk(v, visit));
    else if (value && typeof value.type === 'string') walk(value, visit);
  }
}

function parse(file) {
  const source = fs.readFileSync(file, 'utf8');
  try {
    return acorn.parse(source, { ecmaVersion: 2017, sourceType: 'script', allowHashBang: true });
  } catch (e) {
    throw new Error(`${path.relative(ROOT, file)} is not ES2017: ${e.message}`);
  }
}

function requiresOf(ast) {
  const out = [];
  walk(ast, (n) => {
    if (n.type === 'CallExpression' && n.callee.type === 'Identifier' && n.callee.name === 'require' &&
        n.arguments.length === 1 && n.arguments[0].type === 'Literal') out.push(n.arguments[0].value);
  });
  return out;
}

/** Every JS file of the mini-program itself: app.js, lib/, pages/, components/ (what DevTools uploads). */
function appFiles() {
  const all = (d) => fs.readdirSync(d).flatMap((f) => (fs.statSync(path.join(d, f)).isDirectory() ? all(path.join(d, f)) : [path.join(d, f)]));
  const files = [path.join(ROOT, 'app.js')];
  for (const dir of ['lib', 'pages', 'components']) files.push(...all(path.join(ROOT, dir)).filter((f) => f.endsWith('.js')));
  return files.filter((f) => f !== path.join(ROOT, 'lib', 'linli-vote.js'));
}

/** {file: {package, outside: [specs]}} for the protocol library (owner 'lib'), the rest of the app
 * ('app') and the packed files of every runtime dependency. */
function shippedFiles() {
  const files = new Map();
  const visit = (file, owner) => {
    if (files.has(file) || file.endsWith('.json')) return;
    const ast = parse(file);
    const entry = { owner, ast, outside: [] };
    files.set(file, entry);
    for (const spec of requiresOf(ast)) {
      if (spec.startsWith('.')) visit(resolveRelative(file, spec), owner);
      else entry.outside.push(spec);
    }
  };
  visit(path.join(ROOT, 'lib', 'linli-vote.js'), 'lib');
  for (const file of appFiles()) visit(file, 'app');
  for (const dep of DEPENDENCIES) {
    const dir = path.join(ROOT, 'node_modules', dep);
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    const mpDir = path.join(dir, typeof pkg.miniprogram === 'string' ? pkg.miniprogram : 'miniprogram_dist');
    if (fs.existsSync(mpDir) && fs.statSync(mpDir).isDirectory()) {
      const all = (d) => fs.readdirSync(d).flatMap((f) => (fs.statSync(path.join(d, f)).isDirectory() ? all(path.join(d, f)) : [path.join(d, f)]));
      all(mpDir).filter((f) => f.endsWith('.js')).forEach((f) => visit(f, dep));
    } else {
      visit(resolveRelative(path.join(dir, 'x'), './' + (pkg.main || 'index.js')), dep);
    }
  }
  return files;
}

const FORBIDDEN_NAMES = new Set(['BigInt', 'BigInt64Array', 'BigUint64Array']);

function problemsOf(ast, isLib) {
  const problems = [];
  walk(ast, (n) => {
    if (n.type === 'Identifier' && FORBIDDEN_NAMES.has(n.name)) problems.push(`${n.name} at ${n.start}`);
    if ((n.type === 'BinaryExpression' || n.type === 'AssignmentExpression') && (n.operator === '**' || n.operator === '**=')) problems.push(`${n.operator} at ${n.start}`);
    if (n.type === 'MemberExpression') {
      const prop = n.computed ? n.property.value : n.property.name;
      if (n.object.type === 'Identifier' && n.object.name === 'Object' && prop === 'hasOwn') problems.push(`Object.hasOwn at ${n.start}`);
      if (n.object.type === 'Identifier' && n.object.name === 'Math' && prop === 'random') problems.push(`Math.random at ${n.start}`);
    }
    if (isLib && n.type === 'Identifier' && n.name === 'wx') problems.push(`wx at ${n.start} (the library takes adapters, never wx)`);
  });
  return problems;
}

test('every shipped file parses as ES2017 and uses nothing newer', () => {
  const files = shippedFiles();
  const owners = new Set([...files.values()].map((f) => f.owner));
  assert.deepEqual([...owners].sort(), ['app', 'lib', ...DEPENDENCIES].sort(), 'the app, lib and every runtime dependency are scanned');
  for (const [file, { ast, owner }] of files) {
    assert.deepEqual(problemsOf(ast, owner === 'lib'), [], path.relative(ROOT, file));
  }
  const scanned = [...files.keys()].map((f) => path.relative(ROOT, f));
  for (const must of ['app.js', 'lib/request.js', 'lib/vote-client.js', 'lib/crypto-shim.js', 'pages/votes/detail.js', 'components/receipt-status/index.js']) {
    assert.ok(scanned.includes(must), must + ' is scanned');
  }
  assert.ok(scanned.filter((f) => f.startsWith('pages/')).length >= 20, 'every page');
  for (const must of ['node_modules/fast-sha256/sha256.js', 'node_modules/tweetnacl/nacl-fast.js']) assert.ok(scanned.includes(must), must + ' is scanned');
  assert.deepEqual(DEPENDENCIES, ['crypto', 'fast-sha256', 'qrcode-generator', 'tweetnacl'], 'nothing else at run time (crypto: the local shim package; qrcode-generator: lib/qr.js)');
});

test('the guard itself catches what it must', () => {
  const ok = (src) => problemsOf(acorn.parse(src, { ecmaVersion: 2017 }), true);
  assert.deepEqual(ok('var a = 2 * 3;'), []);
  for (const src of ['var a = BigInt(1);', 'var a = 2 ** 3;', 'a **= 2;', 'Object.hasOwn(a, "b");', 'Object["hasOwn"](a, "b");',
    'var r = Math.random();', 'wx.getStorageSync("a");']) assert.equal(ok(src).length, 1, src);
  for (const src of ['a?.b', 'a ?? b', 'var x = 1n;', 'var o = {...a};', 'var {a, ...rest} = o;', 'async function* g() {}',
    '/(?<y>a)/', 'try {} catch {}']) assert.throws(() => acorn.parse(src, { ecmaVersion: 2017 }), SyntaxError, src);
});

test('outside requires: tweetnacl\'s guarded Node fallback, and the QR code maker', () => {
  const outside = {};
  for (const [, { owner, outside: specs }] of shippedFiles()) for (const s of specs) (outside[owner] = outside[owner] || new Set()).add(s);
  const plain = Object.fromEntries(Object.entries(outside).map(([k, v]) => [k, [...v].sort()]));
  assert.deepEqual(plain, { lib: ['fast-sha256', 'tweetnacl'], app: ['qrcode-generator'], tweetnacl: ['crypto'] });
  // fast-sha256 requires nothing.
  // qrcode-generator: lib/qr.js only (the proxy key's QR code), never the protocol library.
  // crypto: answered by the packed shim package in WeChat; the app's own files require only relative paths.
});

/**
 * Load lib/linli-vote.js the way the mini-program would: a fresh JS realm without Node's globals
 * (no process, Buffer, TextEncoder, self, window), each packed dependency run from its entry, and
 * the outside requires answered by `outside(spec)`. Options:
 *   packed: the packages WeChat's npm build packed into miniprogram_npm (a require of one of them,
 *           from anywhere, loads it; default: the two protocol dependencies only);
 *   hideSelf: WeChat's module wrapper passes `self` (and window, global…) as undefined parameters
 *           (default true); false lets modules see the realm's global `self`;
 *   before(context): runs in the realm before anything loads (app.js's shim).
 * Returns {exports, executed: [[owner, spec]], context, modules: {package: exports}}.
 */
function loadLikeWeChat(outside, options) {
  const opts = options || {};
  const packed = opts.packed || ['fast-sha256', 'tweetnacl'];
  const hideSelf = opts.hideSelf !== false;
  const context = vm.createContext({});
  if (opts.before) opts.before(context);
  const executed = [];
  const cache = new Map();
  const modules = {};
  const entryOf = (dep) => {
    const dir = path.join(ROOT, 'node_modules', dep);
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    return resolveRelative(path.join(dir, 'x'), './' + (pkg.main || 'index.js'));
  };
  const hidden = hideSelf ? 'window, document, self, global, process' : 'window, document, global, process';
  const load = (file, owner) => {
    if (cache.has(file)) return cache.get(file).exports;
    const module = { exports: {} };
    cache.set(file, module);
    const wrapper = vm.runInContext(`(function (require, module, exports, ${hidden}) {${fs.readFileSync(file, 'utf8')}\n})`, context, { filename: file });
    const req = (spec) => {
      if (spec.startsWith('.')) return load(resolveRelative(file, spec), owner);
      if (packed.includes(spec)) {
        modules[spec] = load(entryOf(spec), spec);
        return modules[spec];
      }
      executed.push([owner, spec]);
      return outside(spec);
    };
    wrapper.call(module.exports, req, module, module.exports);
    return module.exports;
  };
  const exports = load(path.join(ROOT, 'lib', 'linli-vote.js'), 'lib');
  return { exports, executed, context, modules };
}

const wechatRequire = (spec) => { throw new Error(`module "${spec}" is not defined`); };

function checksAReceiptAndSigns(L, context) {
  const data = fixture('receipts.json');
  const c = data.good[0];
  const result = L.checkReceipt(JSON.parse(JSON.stringify(c.receipt)), { serverKey: data.server_key, envelope: JSON.parse(JSON.stringify(c.envelope)) });
  assert.equal(result.ok, true, JSON.stringify(result.problems));
  const ballots = fixture('ballots.json');
  const b = ballots.cases[0];
  const seed = vm.runInContext(`new Uint8Array(${JSON.stringify([...Buffer.from(b.seed_hex, 'hex')])})`, context);
  const nonce = vm.runInContext(`new Uint8Array(${JSON.stringify([...Buffer.from(b.nonce_hex, 'hex')])})`, context);
  const ballot = L.newBallot({ voteId: b.vote_id, rightId: b.right_id, choice: b.choice, nonceBytes: nonce, signedAt: b.signed_at });
  assert.deepEqual(JSON.parse(JSON.stringify(L.signBallot(ballot, L.keyPairFromSeed(seed).secretKey))), b.envelope);
}

test('in a realm like the mini-program\'s the library loads and checks a receipt', () => {
  const { exports: L, executed, context } = loadLikeWeChat(() => ({}));
  for (const name of ['process', 'Buffer', 'TextEncoder', 'self', 'window']) assert.equal(vm.runInContext(`typeof ${name}`, context), 'undefined', name);
  // tweetnacl sets up its own random generator at load: with no self.crypto it reaches for
  // require('crypto') (Node's). The library never uses that generator (seeds come from the page).
  assert.deepEqual(executed, [['tweetnacl', 'crypto']]);
  checksAReceiptAndSigns(L, context);
});

test('if the mini-program\'s require throws for Node modules, loading without a guard fails in tweetnacl', () => {
  // What WeChat's require does for a module it does not have ('module "…" is not defined'): the
  // problem the two guards below settle. fast-sha256 requires nothing.
  assert.throws(() => loadLikeWeChat(wechatRequire), /module "crypto" is not defined/);
});

test('guard 1 — self hidden, require throws: the packed local `crypto` package answers tweetnacl', () => {
  const { exports: L, executed, context, modules } = loadLikeWeChat(wechatRequire, { packed: DEPENDENCIES });
  assert.deepEqual(executed, [], 'no require reached WeChat\'s own');
  assert.equal(vm.runInContext('typeof self', context), 'undefined');
  assert.deepEqual(Object.keys(modules).sort(), ['crypto', 'fast-sha256', 'tweetnacl']);
  assert.equal(modules.crypto.randomBytes, undefined, 'the shim package offers no randomness');
  assert.throws(() => modules.tweetnacl.randomBytes(32), /no PRNG/, 'tweetnacl\'s generator stays unset');
  checksAReceiptAndSigns(L, context);
});

test('guard 2 — no self and require(\'crypto\') throws: app.js\'s shim, installed first, makes loading safe', () => {
  const shimSource = fs.readFileSync(path.join(ROOT, 'lib', 'crypto-shim.js'), 'utf8');
  const install = (context) => {
    const module = { exports: {} };
    vm.runInContext(`(function (module, exports) {${shimSource}\n})`, context)(module, module.exports);
    assert.equal(vm.runInContext('typeof self', context), 'undefined', 'no self before the shim');
    assert.equal(module.exports.install(module.exports.globalObject()), 'installed');
  };
  const { exports: L, executed, context, modules } = loadLikeWeChat(wechatRequire, { hideSelf: false, before: install });
  assert.deepEqual(executed, [], 'tweetnacl took the self.crypto branch and never required crypto');
  assert.equal(vm.runInContext('typeof self.crypto.getRandomValues', context), 'function');
  assert.throws(() => modules.tweetnacl.randomBytes(32), /must not make randomness here/, 'calling it throws');
  checksAReceiptAndSigns(L, context);
});

test('app.js installs the shim before it requires anything else', () => {
  const context = vm.createContext({});
  const order = [];
  let app = null;
  context.App = (definition) => { app = definition; };
  const source = fs.readFileSync(path.join(ROOT, 'app.js'), 'utf8');
  const requireApp = (spec) => {
    order.push(spec);
    const file = resolveRelative(path.join(ROOT, 'app.js'), spec);
    const module = { exports: {} };
    vm.runInContext(`(function (require, module, exports) {${fs.readFileSync(file, 'utf8')}\n})`, context)(requireApp, module, module.exports);
    return module.exports;
  };
  vm.runInContext(`(function (require, module, exports) {${source}\n})`, context)(requireApp, { exports: {} }, {});
  assert.equal(order[0], './lib/crypto-shim.js');
  assert.ok(app, 'App() was called');
  assert.equal(vm.runInContext('typeof self.crypto.getRandomValues', context), 'function');
  assert.throws(() => vm.runInContext('self.crypto.getRandomValues(new Uint8Array(4))', context), /must not make randomness/);
  // A realm that has its own crypto keeps it.
  const shim = require('../lib/crypto-shim.js');
  const root = { self: { crypto: { getRandomValues: () => 'own' } } };
  assert.equal(shim.install(root), 'present');
  assert.equal(root.self.crypto.getRandomValues(), 'own');
  assert.equal(shim.install(undefined), 'no-global');
});
