// 委托代理人 (the owner's page, linli-vote/1.1): for each of my rights in the vote, who holds its
// proxy (the delegate's masked phone and key fingerprint) and whether the proxy has voted (never
// for what); give a proxy, or take it back.
//
// The delegate's public key comes from the delegate's own phone — its QR code scanned here with
// wx.scanCode, or its text pasted — and the page shows the key's fingerprint to compare with the one
// on the delegate's phone before anything is signed. Never from the server: a key the server handed
// out could be its own (docs/votes.md "Proxies"). The delegation is signed with this phone's device
// key, posted, and its receipt checked here (lib/vote-client.js).
var api = require('../../lib/api.js');
var page = require('../../lib/page.js');
var request = require('../../lib/request.js');
var voteClient = require('../../lib/vote-client.js');
var L = require('../../lib/linli-vote.js');

var NOT_A_KEY = '这不是邻里代理人密钥的二维码或文字（应以 linli-proxy-key: 开头）';

Component({
  data: {
    loading: true, error: '', id: null, title: '', open: false, rights: [], pending: null, pasteIndex: -1, pasteText: '',
    keyError: '', working: false, done: null, doneError: ''
  },
  methods: {
    onLoad: function (query) {
      this.setData({ id: page.intParam(query, 'id') });
      return this.refresh();
    },
    refresh: function () {
      var self = this;
      return page.load(self, function () {
        return Promise.all([api.vote(self.data.id), voteClient.delegations(self.data.id)]).then(function (both) {
          self._vote = both[0];
          self._rights = both[1].rights;
          self.setData({
            title: both[0].title,
            open: both[0].state === 'open',
            rights: both[1].rights.map(function (r) {
              return {
                right_id: r.right_id, label: r.label,
                delegate: r.delegate ? { phone: r.delegate.phone || '（未留手机号）', fingerprint: r.delegate.fingerprint, used: r.delegate.used } : null
              };
            })
          });
        });
      });
    },
    /** Scan the QR code the delegate's phone shows (pages/votes/proxy-key). */
    scan: function (e) {
      var self = this;
      var index = Number(e.currentTarget.dataset.index);
      return new Promise(function (resolve) {
        wx.scanCode({
          onlyFromCamera: true,
          scanType: ['qrCode'],
          success: function (res) { resolve(self.useText(index, res && res.result)); },
          fail: function () { resolve(null); }
        });
      });
    },
    startPaste: function (e) {
      this.setData({ pasteIndex: Number(e.currentTarget.dataset.index), pasteText: '', keyError: '' });
    },
    pasteInput: function (e) {
      this.setData({ pasteText: e.detail.value });
    },
    usePaste: function () {
      return this.useText(this.data.pasteIndex, this.data.pasteText);
    },
    useText: function (index, text) {
      var key = L.parseProxyKeyText(text);
      if (!key) {
        this.setData({ keyError: NOT_A_KEY, pending: null });
        return null;
      }
      this.setData({ keyError: '', pasteIndex: -1, pending: { index: index, label: this.data.rights[index].label, key: key, fingerprint: L.keyFingerprint(key) } });
      return key;
    },
    cancel: function () {
      this.setData({ pending: null, pasteIndex: -1 });
    },
    /** The fingerprints matched: sign the delegation here and post it. */
    confirmDelegate: function () {
      var self = this;
      var pending = self.data.pending;
      if (!pending) return null;
      var right = self._rights[pending.index];
      self.setData({ working: true, done: null, doneError: '' });
      return voteClient.delegate(self._vote, right, pending.key).then(function (outcome) {
        self.setData({ working: false, pending: null, done: { ok: outcome.ok, text: '已委托：' + right.label + ' 的代理人密钥指纹 ' + pending.fingerprint, problems: outcome.problems, evidence: outcome.evidence } });
        return self.refresh();
      }, function (error) {
        self.setData({ working: false, doneError: '委托未被接受：' + request.messageOf(error) });
      });
    },
    revoke: function (e) {
      var self = this;
      var index = Number(e.currentTarget.dataset.index);
      var right = self._rights[index];
      if (!right || !right.delegate) return null;
      return page.confirm('撤销委托', '撤销后代理人不能再为 ' + right.label + ' 投票；代理人已投的票若在撤销之前，仍以您之后的投票为准，您可以自己投票。').then(function (yes) {
        if (!yes) return null;
        self.setData({ working: true, done: null, doneError: '' });
        return voteClient.revokeDelegation(self._vote, right, right.delegate.public_key).then(function (outcome) {
          self.setData({ working: false, done: { ok: outcome.ok, text: '已撤销 ' + right.label + ' 的委托', problems: outcome.problems, evidence: outcome.evidence } });
          return self.refresh();
        }, function (error) {
          self.setData({ working: false, doneError: '撤销未被接受：' + request.messageOf(error) });
        });
      });
    }
  }
});
