// 工单详情: the ticket, its photos (wx.downloadFile with the bearer header), the timeline (events
// and replies in time order), reply with photos, and — once resolved — confirm with a rating (1–5)
// or reopen with a reason.
var api = require('../../lib/api.js');
var page = require('../../lib/page.js');
var format = require('../../lib/format.js');
var request = require('../../lib/request.js');
var subscribe = require('../../lib/subscribe.js');
var uploads = require('../../lib/uploads.js');

var AUTHOR = { reporter: '我', property_staff: '物业', regulator: '街道办' };
var ACTOR = { reporter: '我', property_staff: '物业', regulator: '街道办', system: '系统' };

function starsOf(rating) {
  return [1, 2, 3, 4, 5].map(function (v) { return { value: v, on: v <= rating }; });
}

function photosOf(list) {
  return (list || []).map(function (m) { return { id: m.id, thumb: m.thumbnail_url || m.url, full: m.url }; });
}

function timeline(t) {
  var items = [];
  (t.events || []).forEach(function (e) {
    if (e.reply_id) return; // shown as the reply it made
    var text = format.label('ticketEvent', e.action);
    if (e.action === 'transition') text = format.label('ticketStatus', e.from_status) + ' → ' + format.label('ticketStatus', e.to_status);
    if (e.rating) text += '，评分 ' + e.rating + ' 星';
    items.push({ key: 'e' + e.id, at: e.created_at, time: format.time(e.created_at), who: ACTOR[e.actor_role] || '', text: text, note: e.note || '', photos: [], reply: false });
  });
  (t.replies || []).forEach(function (r) {
    items.push({ key: 'r' + r.id, at: r.created_at, time: format.time(r.created_at), who: AUTHOR[r.author_role] || '', text: r.body, note: '', photos: photosOf(r.photos), reply: true });
  });
  items.sort(function (a, b) { return a.at < b.at ? -1 : a.at > b.at ? 1 : 0; });
  return items;
}

Component({
  data: {
    loading: true, error: '', id: null, ticket: null, photos: [], timeline: [], reply: '', replyPhotos: [], sending: false,
    mine: false, canAnswer: false, rating: 0, stars: starsOf(0), comment: '', reason: '', actionError: ''
  },
  methods: {
    onLoad: function (query) {
      this.setData({ id: page.intParam(query, 'id') });
      this.picker = new uploads.PhotoPicker(this, 'replyPhotos');
      subscribe.prefetch();
      return this.refresh();
    },
    refresh: function () {
      var self = this;
      return page.load(self, function () {
        return api.ticket(self.data.id).then(function (t) {
          var user = request.client().user();
          var mine = !!user && user.id === t.reporter_id;
          self.setData({
            ticket: {
              id: t.id, title: format.label('ticketCategory', t.category) + ' · ' + format.label('ticketSubject', t.subject),
              description: t.description, location: t.location || t.part_label || '', status: t.status,
              statusText: format.label('ticketStatus', t.status), created: format.time(t.created_at), due: format.time(t.due_at),
              overdue: !!t.overdue, escalated: !!t.escalated_at, rating: t.rating
            },
            photos: photosOf(t.photos),
            timeline: timeline(t),
            mine: mine,
            canAnswer: mine && t.status === 'resolved'
          });
        });
      });
    },
    onReply: function (e) { this.setData({ reply: e.detail.value }); },
    addPhotos: function () { return this.picker.choose(); },
    sendReply: function () {
      var self = this;
      var ids = self.picker.ids();
      if (ids === null) return page.alert('照片还在上传，请稍候');
      if (!self.data.reply.trim() && !ids.length) return page.alert('请输入回复内容');
      subscribe.ask('ticket_replied');
      self.setData({ sending: true });
      return api.replyTicket(self.data.id, { body: self.data.reply.trim(), photo_ids: ids }).then(function () {
        self.setData({ sending: false, reply: '', replyPhotos: [] });
        return self.refresh();
      }, function (error) {
        self.setData({ sending: false });
        return page.alert(error);
      });
    },
    rate: function (e) {
      var rating = Number(e.currentTarget.dataset.value);
      this.setData({ rating: rating, stars: starsOf(rating) });
    },
    onComment: function (e) { this.setData({ comment: e.detail.value }); },
    onReason: function (e) { this.setData({ reason: e.detail.value }); },
    confirm: function () {
      var self = this;
      if (!self.data.rating) return page.alert('请先评分（1–5 星）');
      var body = { to: 'confirmed', rating: self.data.rating };
      if (self.data.comment.trim()) body.comment = self.data.comment.trim();
      return self._move(body);
    },
    reopen: function () {
      var self = this;
      if (!self.data.reason.trim()) return page.alert('请说明为什么问题没有解决');
      return self._move({ to: 'reopened', reason: self.data.reason.trim() });
    },
    _move: function (body) {
      var self = this;
      self.setData({ actionError: '' });
      return api.moveTicket(self.data.id, body).then(function () {
        self.setData({ rating: 0, stars: starsOf(0), comment: '', reason: '' });
        return self.refresh();
      }, function (error) {
        self.setData({ actionError: request.messageOf(error) });
      });
    }
  }
});
