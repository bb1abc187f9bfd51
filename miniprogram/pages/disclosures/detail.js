// One disclosure (or a half-year's revenue statement, with `period`): the chosen version's content,
// the version history, and the field-by-field diff between two versions (GET …/diff).
var api = require('../../lib/api.js');
var page = require('../../lib/page.js');
var format = require('../../lib/format.js');
var content = require('../../lib/content.js');
var request = require('../../lib/request.js');

Component({
  data: {
    loading: true, error: '', cid: null, kind: '', period: '', title: '', versions: [], shown: null, rows: [],
    attachments: [], compare: null, changes: [], diffError: ''
  },
  methods: {
    onLoad: function (query) {
      var period = (query && query.period) || '';
      this.setData({
        cid: page.intParam(query, 'cid') || page.currentCommunity(), kind: (query && query.kind) || '', period: period,
        title: period ? '公共收益收支 ' + period : format.label('disclosure', (query && query.kind) || '')
      });
      return this.refresh();
    },
    _versions: function () {
      var d = this.data;
      return d.period ? api.revenueVersions(d.cid, d.period) : api.disclosureVersions(d.cid, d.kind, 1);
    },
    _version: function (n) {
      var d = this.data;
      var path = d.period
        ? '/api/v1/communities/' + d.cid + '/revenue-statements/' + encodeURIComponent(d.period) + '/versions/' + n
        : null;
      return path ? request.client().request({ path: path }) : api.disclosureVersion(d.cid, d.kind, n);
    },
    refresh: function () {
      var self = this;
      return page.load(self, function () {
        return self._versions().then(function (answer) {
          var versions = answer.items.map(function (v) {
            return { version: v.version, time: format.time(v.published_at), note: v.note || '' };
          });
          self.setData({ versions: versions });
          if (versions.length) return self.show(versions[0].version);
          return null;
        });
      });
    },
    show: function (n) {
      var self = this;
      return self._version(n).then(function (v) {
        self.setData({
          shown: { version: v.version, time: format.time(v.published_at), note: v.note || '', sha: v.content_sha256 },
          rows: content.rows(v.content),
          attachments: v.attachments.map(function (a) { return { id: a.media_id }; })
        });
      });
    },
    pickVersion: function (e) {
      return this.show(Number(e.currentTarget.dataset.version));
    },
    /** Compare version n with the one before it (the history is newest first). */
    diff: function (e) {
      var self = this;
      var to = Number(e.currentTarget.dataset.version);
      var from = to - 1;
      var d = self.data;
      var ask = d.period ? api.revenueDiff(d.cid, d.period, from, to) : api.disclosureDiff(d.cid, d.kind, from, to);
      return ask.then(function (answer) {
        self.setData({ compare: { from: from, to: to }, changes: content.changes(answer.changes), diffError: '' });
      }, function (error) {
        self.setData({ diffError: request.messageOf(error) });
      });
    }
  }
});
