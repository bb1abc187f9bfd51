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

/** {file: {package, outside: [specs]}} for lib/ and the packed files of every runtime dependency. */
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
  for (const name of fs.readdirSync(path.join(ROOT, 'lib')).filter((f) => f.endsWith('.js'))) visit(path.join(ROOT, 'lib', name), 'lib');
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
  assert.deepEqual([...owners].sort(), ['lib', ...DEPENDENCIES].sort(), 'lib and every runtime dependency are scanned');
  for (const [file, { ast, owner }] of files) {
    assert.deepEqual(problemsOf(ast, owner === 'lib'), [], path.relative(ROOT, file));
  }
  assert.deepEqual(DEPENDENCIES, ['js-sha256', 'tweetnacl'], 'nothing else at run time');
});

test('the guard itself catches what it must', () => {
  const ok = (src) => problemsOf(acorn.parse(src, { ecmaVersion: 2017 }), true);
  assert.deepEqual(ok('var a = 2 * 3;'), []);
  for (const src of ['var a = BigInt(1);', 'var a = 2 ** 3;', 'a **= 2;', 'Object.hasOwn(a, "b");', 'Object["hasOwn"](a, "b");',
    'var r = Math.random();', 'wx.getStorageSync("a");']) assert.equal(ok(src).length, 1, src);
  for (const src of ['a?.b', 'a ?? b', 'var x = 1n;', 'var o = {...a};', 'var {a, ...rest} = o;', 'async function* g() {}',
    '/(?<y>a)/', 'try {} catch {}']) assert.throws(() => acorn.parse(src, { ecmaVersion: 2017 }), SyntaxError, src);
});

test('outside requires: only the guarded Node fallbacks of the two dependencies', () => {
  const outside = {};
  for (const [, { owner, outside: specs }] of shippedFiles()) for (const s of specs) (outside[owner] = outside[owner] || new Set()).add(s);
  const plain = Object.fromEntries(Object.entries(outside).map(([k, v]) => [k, [...v].sort()]));
  assert.deepEqual(plain, { lib: ['js-sha256', 'tweetnacl'], 'js-sha256': ['buffer', 'crypto'], tweetnacl: ['crypto'] });
});

/**
 * Load lib/linli-vote.js the way the mini-program would: a fresh JS realm without Node's globals
 * (no process, Buffer, TextEncoder, self, window), each packed dependency run from its entry, and
 * the outside requires answered by `outside(spec)`. Returns {exports, executed: [[owner, spec]]}.
 */
function loadLikeWeChat(outside) {
  const context = vm.createContext({});
  const executed = [];
  const cache = new Map();
  const entryOf = (dep) => {
    const dir = path.join(ROOT, 'node_modules', dep);
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    return resolveRelative(path.join(dir, 'x'), './' + (pkg.main || 'index.js'));
  };
  const load = (file, owner) => {
    if (cache.has(file)) return cache.get(file).exports;
    const module = { exports: {} };
    cache.set(file, module);
    // WeChat's module wrapper hides browser globals behind parameters it leaves undefined.
    const wrapper = vm.runInContext(`(function (require, module, exports, window, document, self, global, process) {${fs.readFileSync(file, 'utf8')}\n})`, context, { filename: file });
    const req = (spec) => {
      if (spec.startsWith('.')) return load(resolveRelative(file, spec), owner);
      if (owner === 'lib' && DEPENDENCIES.includes(spec)) return load(entryOf(spec), spec);
      executed.push([owner, spec]);
      return outside(spec);
    };
    wrapper.call(module.exports, req, module, module.exports);
    return module.exports;
  };
  const exports = load(path.join(ROOT, 'lib', 'linli-vote.js'), 'lib');
  return { exports, executed, context };
}

test('in a realm like the mini-program\'s the library loads and checks a receipt', () => {
  const { exports: L, executed, context } = loadLikeWeChat(() => ({}));
  for (const name of ['process', 'Buffer', 'TextEncoder', 'self', 'window']) assert.equal(vm.runInContext(`typeof ${name}`, context), 'undefined', name);
  // tweetnacl sets up its own random generator at load: with no self.crypto it reaches for
  // require('crypto') (Node's). The library never uses that generator (seeds come from the page).
  // See miniprogram/README.md, "WeChat and tweetnacl's require('crypto')".
  assert.deepEqual(executed, [['tweetnacl', 'crypto']]);
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
});

test('if the mini-program\'s require throws for Node modules, loading fails in tweetnacl only', () => {
  // What WeChat's require does for a module it does not have ('module "…" is not defined'): this is
  // the case the pages change must settle in WeChat DevTools (README). js-sha256 never gets there.
  assert.throws(() => loadLikeWeChat((spec) => { throw new Error(`module "${spec}" is not defined`); }), /module "crypto" is not defined/);
});
