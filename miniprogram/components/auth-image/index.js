// An image served by the API (/api/v1/media/<id>…): fetched with wx.downloadFile and the bearer
// header (an <image src> cannot send one), then shown from the temporary file; tap to preview.
var api = require('../../lib/api.js');
var request = require('../../lib/request.js');

Component({
  properties: {
    src: { type: String, value: '' },
    full: { type: String, value: '' }
  },
  data: { path: '', error: '' },
  observers: {
    src: function (src) {
      if (src) this.fetch(src);
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
      api.download(self.data.full).then(function (path) {
        wx.previewImage({ urls: [path] });
      });
    }
  }
});
