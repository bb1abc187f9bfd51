// 首页: my community, pinned notices, open votes in which I hold a right, my open tickets.
var api = require('../../lib/api.js');
var page = require('../../lib/page.js');
var format = require('../../lib/format.js');

var OPEN_TICKET = ['submitted', 'accepted', 'in_progress', 'reopened', 'resolved'];

Component({
  data: {
    loading: true,
    error: '',
    communities: [],
    community: null,
    pendingClaims: [],
    notices: [],
    votes: [],
    tickets: []
  },
  methods: {
    onLoad: function () {
      return this.refresh();
    },
    onShow: function () {
      if (this.data.community) this.refresh();
    },
    refresh: function () {
      var self = this;
      return page.load(self, function () {
        return api.me().then(function (me) {
          var communities = me.communities.map(function (c) {
            return { id: c.id, name: c.name, roles: c.roles.map(function (r) { return format.label('role', r); }).join('、') };
          });
          var pending = me.bindings.filter(function (b) { return b.status !== 'verified'; }).map(function (b) {
            return { id: b.id, label: b.label, status: b.status, statusText: format.label('binding', b.status), reason: b.reason || '' };
          });
          var chosen = page.currentCommunity();
          var community = communities.filter(function (c) { return c.id === chosen; })[0] || communities[0] || null;
          self.setData({ communities: communities, community: community, pendingClaims: pending });
          if (!community) return null;
          page.setCommunity(community.id);
          return Promise.all([
            api.notices(community.id, { per_page: 20 }),
            api.myVotes(),
            api.tickets(community.id, { mine: true, per_page: 50 })
          ]).then(function (answers) {
            self.setData({
              notices: answers[0].items.filter(function (n) { return n.pinned; }).map(function (n) {
                return { id: n.id, title: n.title, time: format.time(n.published_at), important: n.important };
              }),
              votes: answers[1].items.filter(function (v) { return v.community_id === community.id; }).map(function (v) {
                return { id: v.id, title: v.title, closes: format.time(v.closes_at) };
              }),
              tickets: answers[2].items.filter(function (t) { return OPEN_TICKET.indexOf(t.status) >= 0; }).map(function (t) {
                return { id: t.id, title: format.label('ticketSubject', t.subject) + ' · ' + t.description.slice(0, 20), status: format.label('ticketStatus', t.status) };
              })
            });
          });
        });
      });
    },
    switchCommunity: function (e) {
      var c = this.data.communities[e.detail.value];
      if (!c) return null;
      page.setCommunity(c.id);
      return this.refresh();
    },
    openNotice: function (e) {
      page.go('/pages/notices/detail?cid=' + this.data.community.id + '&id=' + e.currentTarget.dataset.id);
    },
    openVote: function (e) {
      page.go('/pages/votes/detail?id=' + e.currentTarget.dataset.id);
    },
    openTicket: function (e) {
      page.go('/pages/tickets/detail?id=' + e.currentTarget.dataset.id);
    },
    goMyFlat: function () {
      page.go('/pages/login/index');
    },
    goDisclosures: function () {
      page.go('/pages/disclosures/index');
    },
    goNotices: function () {
      page.go('/pages/notices/index');
    }
  }
});
