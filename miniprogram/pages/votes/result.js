// 表决结果: the signed tally (verified here with the vote's server key, its root tied to the close
// receipt's signed head), each option or candidate by area and owners, the quorum, the outcome, and
// the result notice the committee published.
var page = require('../../lib/page.js');
var format = require('../../lib/format.js');
var voteClient = require('../../lib/vote-client.js');

function count(c) {
  return format.area(c.area) + '，' + c.heads + ' 人';
}

Component({
  data: { loading: true, error: '', id: null, title: '', tally: null, rows: [], outcome: '', ok: false, problems: [], notice: '', noticeId: null, cid: null },
  methods: {
    onLoad: function (query) {
      this.setData({ id: page.intParam(query, 'id') });
      return this.refresh();
    },
    refresh: function () {
      var self = this;
      return page.load(self, function () {
        return voteClient.result(self.data.id).then(function (r) {
          var t = r.tally;
          var election = r.vote.kind === 'election';
          var names = {};
          (r.vote.candidates || []).forEach(function (c) { names[c.id] = c.name; });
          var rows = Object.keys(t.counts).map(function (k) {
            return { key: k, label: election ? (names[k] || k) : format.label('option', k), value: count(t.counts[k]), elected: election && t.elected.indexOf(k) >= 0 };
          });
          var outcome;
          if (!t.quorum) outcome = '未达到法定参与人数和面积，表决不成立';
          else if (election) outcome = t.elected.length ? '当选：' + t.elected.map(function (id) { return names[id] || id; }).join('、') : '无人当选';
          else outcome = t.passed ? '通过' : '未通过';
          if (election && t.tie && t.tie.length) outcome += '；并列需另行表决：' + t.tie.map(function (id) { return names[id] || id; }).join('、');
          self.setData({
            title: r.vote.title, cid: r.vote.community_id,
            tally: { totals: count(t.totals), turnout: count(t.turnout), quorum: t.quorum ? '已达到' : '未达到', paper: t.paper, size: t.size },
            rows: rows, outcome: outcome, passed: !!(t.passed || (t.elected && t.elected.length)),
            ok: r.ok, problems: r.problems, notice: r.notice ? r.notice.text : '', noticeId: r.notice ? r.notice.notice_id : null
          });
        });
      });
    },
    openNotice: function () {
      page.go('/pages/notices/detail?cid=' + this.data.cid + '&id=' + this.data.noticeId);
    },
    goReceipts: function () {
      page.go('/pages/votes/receipts?id=' + this.data.id);
    }
  }
});
