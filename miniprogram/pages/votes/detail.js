// 表决详情与投票: the definition (title, period, scope, fund and its quotes as images or PDFs, the
// thresholds in plain Chinese, the public log's size so far) and the cast: the device key is made
// on first use and registered, the ballot is signed here, and the receipt is checked here before
// 投票成功 is shown (lib/vote-client.js). Re-voting until the close: the last ballot counts.
// [1.1] The vote's witnesses and quorum; after a cast, whether the newest co-signed head holds the
// ballot (已获 N 位见证人联署) or the witnesses are still to come. With `?proxy=<right_id>` the page
// casts as the proxy of that right (from 我代理的表决), signing with this phone's proxy key.
var api = require('../../lib/api.js');
var page = require('../../lib/page.js');
var format = require('../../lib/format.js');
var subscribe = require('../../lib/subscribe.js');
var voteClient = require('../../lib/vote-client.js');
var request = require('../../lib/request.js');

var OPTIONS = ['approve', 'reject', 'abstain'];

Component({
  data: {
    loading: true, error: '', id: null, vote: null, info: null, thresholds: [], rights: [], rightIndex: 0,
    options: OPTIONS.map(function (o) { return { value: o, label: format.label('option', o) }; }),
    candidates: [], choice: '', approve: [], casting: false, cast: null, castError: '', previous: [], headWarning: null,
    witnesses: null, proxy: null, canDelegate: false
  },
  methods: {
    onLoad: function (query) {
      this.setData({ id: page.intParam(query, 'id') });
      this._proxyRight = query && query.proxy ? String(query.proxy) : null;
      subscribe.prefetch();
      return this.refresh();
    },
    refresh: function () {
      var self = this;
      return page.load(self, function () {
        var proxies = self._proxyRight ? voteClient.myProxies() : Promise.resolve([]);
        return Promise.all([api.vote(self.data.id), proxies]).then(function (both) {
          var v = both[0];
          var d = v.definition;
          self._vote = v;
          self._proxy = both[1].filter(function (p) { return p.id === v.id && p.right_id === self._proxyRight; })[0] || null;
          var proxy = self._proxy;
          var witnesses = d ? voteClient.witnessInfo(d) : null;
          var rights = proxy ? [{ right_id: proxy.right_id, label: proxy.label + '（受委托）', area: format.area(proxy.area) }]
            : self._proxyRight ? [] : v.my_rights.map(function (r) { return { right_id: r.right_id, label: r.label, area: format.area(r.area) }; });
          self.setData({
            vote: { id: v.id, title: v.title, state: v.state, open: v.state === 'open', tallied: v.state === 'tallied', election: v.kind === 'election' },
            info: {
              description: v.description, kind: format.label('kind', v.kind), matter: format.label('matter', v.matter),
              stateText: format.label('voteState', v.state), opens: format.time(v.opens_at), closes: format.time(v.closes_at),
              scope: v.scope && v.scope.buildings && v.scope.buildings.length ? v.scope.buildings.join('、') + ' 号楼' : '全体业主',
              fund: v.fund ? { amount: format.yuan(v.fund.amount_fen), purpose: v.fund.purpose, attachments: v.fund.attachment_ids.map(function (id) { return { id: id }; }) } : null,
              logSize: v.tree_head ? v.tree_head.size : 0,
              serverKey: d ? d.server_key : '', voteId: v.vote_id || '', seats: v.seats
            },
            thresholds: format.thresholds(d),
            rights: rights,
            witnesses: witnesses ? { names: witnesses.witnesses.map(function (w) { return w.name; }).join('、'), count: witnesses.witnesses.length, quorum: witnesses.quorum } : null,
            proxy: self._proxyRight ? { found: !!proxy, label: proxy ? proxy.label : '', here: !!(proxy && proxy.here), used: !!(proxy && proxy.used) } : null,
            canDelegate: !!(witnesses && v.state === 'open' && v.my_rights.length && !self._proxyRight),
            candidates: (v.candidates || []).map(function (c) { return { id: c.id, name: c.name, statement: c.statement, checked: false }; }),
            previous: d ? voteClient.receiptsOf(d.vote_id).map(function (r) {
              var what = r.kind === 'delegation' ? '委托代理人' : r.kind === 'delegation_revocation' ? '撤销委托' : describeChoice(r.choice, v) + (r.proxy ? '（代理投票）' : '');
              return { at: format.time(r.cast_at), right: r.right_label, choice: what, ok: r.ok };
            }) : []
          });
          // the turnout so far (totals only); the page stands without it
          if (d) {
            api.turnout(v.id).then(function (t) { self.setData({ turnout: format.turnout(t) }); }, function () {});
          }
          // Every signed head the phone sees goes to its memory: a log shown differently to this
          // phone than before is caught here too, not only on the receipts page.
          if (!d || !v.tree_head) return null;
          return voteClient.observeHead(v.id, d, v.tree_head).then(function (seen) {
            self.setData({ headWarning: seen.ok ? null : { problems: seen.problems, evidence: seen.evidence || voteClient.splitEvidence(d.vote_id) } });
          });
        });
      });
    },
    pickRight: function (e) {
      this.setData({ rightIndex: Number(e.detail.value) });
    },
    pickOption: function (e) {
      this.setData({ choice: e.detail.value });
    },
    pickCandidates: function (e) {
      var chosen = e.detail.value;
      this.setData({ approve: chosen, candidates: this.data.candidates.map(function (c) { return Object.assign({}, c, { checked: chosen.indexOf(c.id) >= 0 }); }) });
    },
    /** The cast. Asking for the result message comes first: WeChat wants it inside the tap. */
    submit: function () {
      var self = this;
      var vote = self._vote;
      var proxy = self._proxy;
      var right = proxy || (vote && !self._proxyRight && vote.my_rights[self.data.rightIndex]);
      var choice;
      if (vote && vote.kind === 'election') {
        if (self.data.approve.length > vote.seats) return page.alert('最多可选 ' + vote.seats + ' 人');
        choice = { approve: self.data.approve.slice() };
      } else {
        if (!self.data.choice) return page.alert('请选择同意、反对或弃权');
        choice = { option: self.data.choice };
      }
      if (!right) return page.alert('您在本次表决中没有表决权');
      subscribe.ask('vote_cast');
      self.setData({ casting: true, cast: null, castError: '' });
      var sending = proxy ? voteClient.castAsProxy(vote, proxy, choice) : voteClient.cast(vote, right, choice);
      return sending.then(function (outcome) {
        self.setData({
          casting: false,
          cast: {
            ok: outcome.ok, problems: outcome.problems, evidence: outcome.evidence || null,
            leafIndex: outcome.record.receipt.leaf_index, size: outcome.record.receipt.tree_head ? outcome.record.receipt.tree_head.size : 0,
            choice: describeChoice(choice, vote), witness: witnessText(outcome.witnessed)
          },
          previous: self.data.previous.concat([{ at: format.time(outcome.record.cast_at), right: right.label, choice: describeChoice(choice, vote), ok: outcome.ok }])
        });
      }, function (error) {
        self.setData({ casting: false, castError: request.messageOf(error) });
      });
    },
    goReceipts: function () { page.go('/pages/votes/receipts?id=' + this.data.id); },
    goResult: function () { page.go('/pages/votes/result?id=' + this.data.id); },
    goKeys: function () { page.go('/pages/votes/keys'); },
    goProxy: function () { page.go('/pages/votes/proxy?id=' + this.data.id); }
  }
});

/** What the witnesses said about the receipt just kept ('' for a vote without witnesses). */
function witnessText(w) {
  if (!w || w.status === 'none') return '';
  if (w.status === 'cosigned') return '已获 ' + w.count + ' 位见证人联署：见证人核对过的日志包含这张选票（' + w.names.join('、') + '）。';
  if (w.status === 'waiting') return '等待见证人联署：见证人定期核对公开日志，联署后可在“核验我的回执”中查看。';
  return '';
}

function describeChoice(choice, vote) {
  if (!choice) return '';
  if (choice.option) return format.label('option', choice.option);
  var names = (vote.candidates || []).filter(function (c) { return choice.approve.indexOf(c.id) >= 0; }).map(function (c) { return c.name; });
  return names.length ? '同意：' + names.join('、') : '弃权（未选任何人）';
}
