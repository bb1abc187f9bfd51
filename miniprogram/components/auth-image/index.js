// A file served by the API: fetched with wx.downloadFile and the bearer header (an <image src>
// cannot send one), then shown from the temporary file.
// - `src` (and optional `full` for the preview): an image path such as /api/v1/media/12/thumbnail;
// - `mid`: a media id of any kind (GET …/info first): an image shows its thumbnail, a PDF (a
//   contractor's quote, a notice's attachment) a link that opens it with wx.openDocument.
var api = require('../../lib/api.js');
var request = require('../../lib/request.js');

Component({
  properties: {
    src: { type: String, value: '' },
    full: { type: String, value: '' },
    mid: { type: Number, value: 0 }
  },
  data: { path: '', error: '', pdf: false, opening: false },
  observers: {
    src: function (src) {
      if (src) this.fetch(src);
    },
    mid: function (mid) {
      var self = this;
      if (!mid) return;
      api.mediaInfo(mid).then(function (info) {
        if (info.content_type === 'application/pdf') {
          self.setData({ pdf: true, full: info.url });
        } else {
          self.setData({ full: info.url });
          self.fetch(info.thumbnail_url || info.url);
        }
      }, function (error) {
        self.setData({ error: request.messageOf(error) });
      });
    }
  },
  methods: {
    fetch: function (src) {
      var self = this;
      return api.download(src).then(function (path) {
        self.setData({ path: path, error: '' });
      }, function (error) {
        self.setData({ error: request.messageOf(error) });
      });
    },
    preview: function () {
      var self = this;
      if (!self.data.full) return wx.previewImage({ urls: [self.data.path] });
      return api.download(self.data.full).then(function (path) {
        wx.previewImage({ urls: [path] });
      });
    },
    openPdf: function () {
      var self = this;
      self.setData({ opening: true });
      return api.download(self.data.full).then(function (path) {
        self.setData({ opening: false });
        wx.openDocument({ filePath: path, fileType: 'pdf', showMenu: true });
      }, function (error) {
        self.setData({ opening: false, error: request.messageOf(error) });
      });
    }
  }
});
