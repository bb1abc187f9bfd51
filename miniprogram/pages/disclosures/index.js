// 五个公开: the five disclosures (current version of each), and the ways to my fees, the public
// revenue statements and the emergency fund records.
var api = require('../../lib/api.js');
var page = require('../../lib/page.js');
var format = require('../../lib/format.js');

Component({
  data: { loading: true, error: '', cid: null, kinds: [] },
  methods: {
    onLoad: function (query) {
      this.setData({ cid: page.intParam(query, 'cid') || page.currentCommunity() });
      return this.refresh();
    },
    refresh: function () {
      var self = this;
      return page.load(self, function () {
        return api.disclosures(self.data.cid).then(function (answer) {
          self.setData({
            kinds: answer.kinds.map(function (k) {
              return {
                kind: k.kind, title: k.title || format.label('disclosure', k.kind), published: !!k.current,
                version: k.current ? k.current.version : 0, time: k.current ? format.time(k.current.published_at) : ''
              };
            })
          });
        });
      });
    },
    open: function (e) {
      page.go('/pages/disclosures/detail?cid=' + this.data.cid + '&kind=' + e.currentTarget.dataset.kind);
    },
    goFees: function () { page.go('/pages/fees/index?cid=' + this.data.cid); },
    goRevenue: function () { page.go('/pages/revenue/index?cid=' + this.data.cid); },
    goEmergency: function () { page.go('/pages/emergency/index?cid=' + this.data.cid); }
  }
});
