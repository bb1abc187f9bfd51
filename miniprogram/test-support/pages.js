'use strict';
// Rendering pages and components with miniprogram-simulate under `node --test`: a DOM from jsdom
// (global-jsdom), then the page loaded from its folder with the project's own files, against a fake wx.
require('global-jsdom/register');

global.Event = window.Event;
global.CustomEvent = window.CustomEvent;
global.EventTarget = window.EventTarget;

const path = require('path');
const simulate = require('miniprogram-simulate');
const { createWx, settleAll } = require('./fake-wx.js');

const ROOT = path.join(__dirname, '..');

/** A fresh fake wx installed as the global (the simulator's own is replaced). */
function installWx(options) {
  const wx = createWx(options);
  global.wx = wx;
  require('../lib/subscribe.js').reset();
  return wx;
}

/** Render a page (e.g. 'pages/votes/detail'), run its onLoad(query) and let every answer arrive. */
async function openPage(page, query) {
  const id = simulate.load(path.join(ROOT, page), { rootPath: ROOT, compiler: 'simulate' });
  const comp = simulate.render(id);
  comp.attach(document.createElement('parent-wrapper'));
  await comp.instance.onLoad(query || {});
  await settleAll();
  return comp;
}

/** The text under the first element matching selector (class or id), looking into child components. */
function text(comp, selector) {
  const found = comp.querySelector(selector);
  return found ? found.dom.textContent.replace(/\s+/g, ' ').trim() : null;
}

function all(comp, selector) {
  return comp.querySelectorAll(selector);
}

/** Tap an element: dispatches WeChat's tap on it (bindtap handlers run), then lets answers arrive. */
async function tap(comp, selector) {
  const found = comp.querySelector(selector);
  if (!found) throw new Error('nothing matches ' + selector);
  found.dispatchEvent('tap');
  await settleAll(40);
}

module.exports = { ROOT, installWx, openPage, text, all, tap, settleAll };
