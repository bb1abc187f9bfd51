/**
 * Photos for tickets and replies: chosen with wx.chooseMedia, uploaded one per request with
 * wx.uploadFile (POST /api/v1/media) with progress, at most 9 in all.
 *
 * `PhotoPicker(page, key)` keeps `data[key]` = [{path, progress, id, error}] on the page.
 */
'use strict';

var api = require('./api.js');
var request = require('./request.js');

var MAX_PHOTOS = 9;

class PhotoPicker {
  constructor(pageInstance, key) {
    this.page = pageInstance;
    this.key = key || 'photos';
  }

  list() {
    return this.page.data[this.key] || [];
  }

  _set(list) {
    var update = {};
    update[this.key] = list;
    this.page.setData(update);
  }

  _patch(index, fields) {
    var list = this.list().slice();
    list[index] = Object.assign({}, list[index], fields);
    this._set(list);
  }

  /** Let the user pick up to the remaining count, then upload each in turn. Resolves when all are done. */
  choose() {
    var self = this;
    var room = MAX_PHOTOS - self.list().length;
    if (room <= 0) return Promise.resolve([]);
    return new Promise(function (resolve) {
      wx.chooseMedia({
        count: room,
        mediaType: ['image'],
        sizeType: ['compressed'],
        sourceType: ['album', 'camera'],
        success: function (res) { resolve(res.tempFiles || []); },
        fail: function () { resolve([]); }
      });
    }).then(function (files) {
      return self.add(files.slice(0, room).map(function (f) { return f.tempFilePath; }));
    });
  }

  /** Upload the given temporary files, one request each. */
  add(paths) {
    var self = this;
    var start = self.list().length;
    self._set(self.list().concat(paths.map(function (p) { return { path: p, progress: 0, id: null, error: '' }; })));
    var chain = Promise.resolve();
    paths.forEach(function (p, i) {
      chain = chain.then(function () {
        var index = start + i;
        return api.upload(p, function (percent) { self._patch(index, { progress: percent }); }).then(function (media) {
          self._patch(index, { id: media.id, progress: 100 });
        }, function (error) {
          self._patch(index, { error: request.messageOf(error) });
        });
      });
    });
    return chain.then(function () { return self.list(); });
  }

  remove(index) {
    var list = this.list().slice();
    list.splice(index, 1);
    this._set(list);
  }

  /** The ids of the uploaded photos; null while one is still uploading. */
  ids() {
    var list = this.list();
    if (list.some(function (p) { return !p.id && !p.error; })) return null;
    return list.filter(function (p) { return p.id; }).map(function (p) { return p.id; });
  }
}

module.exports = { PhotoPicker: PhotoPicker, MAX_PHOTOS: MAX_PHOTOS };
