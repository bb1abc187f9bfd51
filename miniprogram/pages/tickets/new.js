// 新工单: category, subject, description, location, up to 9 photos (wx.chooseMedia → wx.uploadFile,
// one per request, with progress). Filing asks for the ticket's subscribe messages first (a tap).
var api = require('../../lib/api.js');
var page = require('../../lib/page.js');
var format = require('../../lib/format.js');
var subscribe = require('../../lib/subscribe.js');
var uploads = require('../../lib/uploads.js');
var request = require('../../lib/request.js');

function choices(group) {
  var table = format.LABELS[group];
  return Object.keys(table).map(function (k) { return { value: k, label: table[k] }; });
}

Component({
  data: {
    cid: null, categories: choices('ticketCategory'), subjects: choices('ticketSubject'), categoryIndex: 0, subjectIndex: -1,
    description: '', location: '', photos: [], max: uploads.MAX_PHOTOS, submitting: false, error: ''
  },
  methods: {
    onLoad: function (query) {
      this.setData({ cid: page.intParam(query, 'cid') || page.currentCommunity() });
      this.picker = new uploads.PhotoPicker(this, 'photos');
      subscribe.prefetch();
    },
    pickCategory: function (e) { this.setData({ categoryIndex: Number(e.detail.value) }); },
    pickSubject: function (e) { this.setData({ subjectIndex: Number(e.detail.value) }); },
    onDescription: function (e) { this.setData({ description: e.detail.value }); },
    onLocation: function (e) { this.setData({ location: e.detail.value }); },
    addPhotos: function () { return this.picker.choose(); },
    removePhoto: function (e) { this.picker.remove(Number(e.currentTarget.dataset.index)); },
    submit: function () {
      var self = this;
      var d = self.data;
      if (d.subjectIndex < 0) return page.alert('请选择问题类型');
      if (!d.description.trim()) return page.alert('请描述问题');
      if (!d.location.trim()) return page.alert('请填写位置，如“3 号楼北侧消防通道”');
      var ids = self.picker.ids();
      if (ids === null) return page.alert('照片还在上传，请稍候');
      subscribe.ask('ticket_filed');
      var body = {
        category: d.categories[d.categoryIndex].value, subject: d.subjects[d.subjectIndex].value,
        description: d.description.trim(), location: d.location.trim(), photo_ids: ids
      };
      self.setData({ submitting: true, error: '' });
      return api.fileTicket(d.cid, body).then(function (ticket) {
        self.setData({ submitting: false, filed: ticket.id });
        wx.redirectTo({ url: '/pages/tickets/detail?id=' + ticket.id });
        return ticket;
      }, function (error) {
        self.setData({ submitting: false, error: request.messageOf(error) });
        return null;
      });
    }
  }
});
