/**
 * A QR code as rows of cells for WXML (WeChat can scan QR codes — wx.scanCode — but has no API that
 * draws one for any text): `qrcode-generator` (MIT, from the npm registry, packed by 构建 npm)
 * makes the module matrix; the page draws it as rows of views (components/qr-code). Used for the
 * proxy key the delegate's phone shows to the owner's (docs/votes.md "Proxies").
 */
'use strict';

var qrcode = require('qrcode-generator');

/** {size, rows: [[0|1, …], …]} of text (byte mode, error correction M, the smallest version that fits). */
function matrix(text) {
  var qr = qrcode(0, 'M');
  qr.addData(String(text), 'Byte');
  qr.make();
  var size = qr.getModuleCount();
  var rows = [];
  for (var r = 0; r < size; r++) {
    var row = [];
    for (var c = 0; c < size; c++) row.push(qr.isDark(r, c) ? 1 : 0);
    rows.push(row);
  }
  return { size: size, rows: rows };
}

module.exports = { matrix: matrix };
