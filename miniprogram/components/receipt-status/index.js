// What the phone's own check of a receipt or a tree head found: a green line, or a red warning with
// the problems and — for a split view — the evidence (two tree heads the server signed that cannot
// both be true) to copy and forward.
Component({
  properties: {
    ok: { type: Boolean, value: false },
    problems: { type: Array, value: [] },
    evidence: { type: Object, value: null },
    okText: { type: String, value: '本机已核验：回执有效，您的选票已记入公开日志。' }
  },
  data: { evidenceText: '' },
  observers: {
    evidence: function (evidence) {
      this.setData({ evidenceText: evidence ? JSON.stringify(evidence, null, 1) : '' });
    }
  },
  methods: {
    copyEvidence: function () {
      wx.setClipboardData({ data: this.data.evidenceText });
    }
  }
});
