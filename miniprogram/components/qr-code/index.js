// A QR code drawn as rows of cells (lib/qr.js, qrcode-generator): WeChat scans QR codes but draws
// none for arbitrary text. With a quiet zone of four cells, as the standard asks.
var qr = require('../../lib/qr.js');

Component({
  properties: {
    text: { type: String, value: '' }
  },
  data: { rows: [], size: 0 },
  observers: {
    text: function (text) {
      if (!text) return this.setData({ rows: [], size: 0 });
      var m = qr.matrix(text);
      this.setData({ size: m.size, rows: m.rows.map(function (row, i) { return { i: i, cells: row }; }) });
    }
  }
});
