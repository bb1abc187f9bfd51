// 表决: the open votes in which I hold a right, then every vote of my community with its state.
var api = require('../../lib/api.js');
var page = require('../../lib/page.js');
var format = require('../../lib/format.js');
var subscribe = require('../../lib/subscribe.js');

function item(v) {
  return {
    id: v.id, title: v.title, state: v.state, stateText: format.label('voteState', v.state),
    kind: format.label('kind', v.kind), closes: format.time(v.closes_at), mine: v.my_rights.length > 0
  };
}

Component({
  data: { loading: true, error: '', cid: null, open: [], all: [], canSubscribe: false },
  methods: {
    onLoad: function () {
      var self = this;
      self.setData({ cid: page.currentCommunity() });
      subscribe.prefetch().then(function () {
        self.setData({ canSubscribe: subscribe.idsFor('votes_list').length > 0 });
      });
      return self.refresh();
    },
    onShow: function () {
      if (!this.data.loading) this.refresh();
    },
    refresh: function () {
      var self = this;
      return page.load(self, function () {
        var cid = self.data.cid || page.currentCommunity();
        return Promise.all([api.myVotes(), cid ? api.votes(cid, { per_page: 50 }) : Promise.resolve({ items: [] })]).then(function (answers) {
          var open = answers[0].items.map(item);
          var openIds = open.map(function (v) { return v.id; });
          self.setData({ cid: cid, open: open, all: answers[1].items.filter(function (v) { return openIds.indexOf(v.id) < 0; }).map(item) });
        });
      });
    },
    open: function (e) {
      var id = e.currentTarget.dataset.id;
      var state = e.currentTarget.dataset.state;
      page.go(state === 'tallied' ? '/pages/votes/result?id=' + id : '/pages/votes/detail?id=' + id);
    },
    subscribe: function () {
      return subscribe.ask('votes_list');
    }
  }
});
