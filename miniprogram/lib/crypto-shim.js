/**
 * Installed by app.js before anything loads lib/linli-vote.js (and so tweetnacl).
 *
 * tweetnacl sets up a random generator when it loads: it uses `self.crypto.getRandomValues` when
 * there is one, and otherwise runs `require('crypto')` — which throws in WeChat, whose require knows
 * no Node modules. Two guards make loading safe whichever way WeChat's module wrapper goes:
 *
 * 1. this shim: where `self` is visible to modules, it gets a `crypto.getRandomValues` that throws
 *    if it is ever called, so tweetnacl takes its first branch and never reaches the require;
 * 2. where the wrapper hides `self` (it passes `self` as an undefined parameter), the require is
 *    answered by the local package `crypto` (miniprogram/shims/crypto, packed by "构建 npm"), which
 *    offers no randomness, so tweetnacl's generator stays unset.
 *
 * Either way `nacl.randomBytes` throws if anything calls it, and nothing does: the app's only
 * randomness is wx.getRandomValues (lib/vote-client.js), handed to the library as seeds and nonces.
 */
'use strict';

var MESSAGE = 'linli: tweetnacl must not make randomness here; seeds come from wx.getRandomValues';

function refuse() {
  throw new Error(MESSAGE);
}

/** Install on `root` (the global object); returns what was done: 'installed', 'present' or 'no-global'. */
function install(root) {
  if (!root || (typeof root !== 'object' && typeof root !== 'function')) return 'no-global';
  if (root.self === undefined || root.self === null) root.self = root;
  var target = root.self;
  if (target.crypto && typeof target.crypto.getRandomValues === 'function') return 'present';
  if (!target.crypto) target.crypto = {};
  target.crypto.getRandomValues = refuse;
  return 'installed';
}

/** The global object without eval/new Function (both forbidden in WeChat). */
function globalObject() {
  if (typeof globalThis !== 'undefined') return globalThis;
  if (typeof global !== 'undefined') return global;
  return undefined;
}

module.exports = { install: install, globalObject: globalObject, MESSAGE: MESSAGE };
