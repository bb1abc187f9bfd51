// 登录与我的房屋: WeChat login (done by the request wrapper), the phone button, claiming a flat
// (building/unit/room/name) → verified at once, or pending with a property-certificate photo; the
// state of each claim explained. A claim reveals nothing (docs/decisions.md "Claims reveal nothing").
var api = require('../../lib/api.js');
var page = require('../../lib/page.js');
var format = require('../../lib/format.js');

var EXPLAIN = {
  verified: '已认证为业主：可以查看小区信息、参加表决。',
  pending: '待业委会或物业审核。审核通过前，您看不到小区内的公告、表决和公开信息——认领本身不会透露这套房屋是否在业主名册中，这是为了保护每位业主的隐私。可补充房产证照片加快审核。',
  rejected: '审核未通过。您仍看不到小区内的信息；如有误，请核对楼栋、单元、房号和姓名后重新认领，或联系业委会。'
};

function describe(binding) {
  return {
    id: binding.id,
    label: binding.label,
    status: binding.status,
    statusText: format.label('binding', binding.status),
    reason: binding.reason || '',
    explain: EXPLAIN[binding.status] || '',
    time: format.time(binding.created_at)
  };
}

Component({
  data: {
    loading: true,
    error: '',
    phone: '',
    phoneVerified: false,
    bindings: [],
    communities: [],
    communityIndex: -1,
    form: { building: '', unit: '', room: '', name: '' },
    certificate: null,
    uploading: false,
    submitting: false,
    result: null
  },
  methods: {
    onLoad: function () {
      return this.refresh();
    },
    refresh: function () {
      var self = this;
      return page.load(self, function () {
        return Promise.all([api.me(), api.communities({ per_page: 100 })]).then(function (answers) {
          var me = answers[0];
          self.setData({
            phone: me.user.phone || '',
            phoneVerified: !!me.user.phone_verified_at,
            bindings: me.bindings.map(describe),
            communities: answers[1].items.map(function (c) { return { id: c.id, name: c.name + '（' + c.district + '）' }; })
          });
        });
      });
    },
    onPhone: function (e) {
      var self = this;
      var code = e && e.detail && e.detail.code;
      if (!code) return page.alert('需要您同意提供手机号，才能与业主名册核对。');
      return api.verifyPhone(code).then(function (user) {
        self.setData({ phone: user.phone || '', phoneVerified: true });
        page.toast('手机号已验证');
      }, function (error) { return page.alert(error); });
    },
    pickCommunity: function (e) {
      this.setData({ communityIndex: Number(e.detail.value) });
    },
    onInput: function (e) {
      var field = e.currentTarget.dataset.field;
      var update = {};
      update['form.' + field] = e.detail.value;
      this.setData(update);
    },
    chooseCertificate: function () {
      var self = this;
      wx.chooseMedia({
        count: 1,
        mediaType: ['image'],
        sizeType: ['compressed'],
        success: function (res) {
          var file = res.tempFiles[0];
          self.setData({ uploading: true });
          api.upload(file.tempFilePath).then(function (media) {
            self.setData({ uploading: false, certificate: { id: media.id, path: file.tempFilePath } });
          }, function (error) {
            self.setData({ uploading: false });
            page.alert(error);
          });
        }
      });
    },
    submit: function () {
      var self = this;
      var community = self.data.communities[self.data.communityIndex];
      var form = self.data.form;
      if (!community) return page.alert('请选择小区');
      if (!form.building || !form.unit || !form.room || !form.name) return page.alert('请填写楼栋、单元、房号和业主姓名');
      var body = { building: form.building, unit: form.unit, room: form.room, name: form.name };
      if (self.data.certificate) body.certificate_media_id = self.data.certificate.id;
      self.setData({ submitting: true });
      return api.claim(community.id, body).then(function (binding) {
        self.setData({ submitting: false, result: describe(binding) });
        if (binding.status === 'verified') page.setCommunity(binding.community_id);
        return self.refresh();
      }, function (error) {
        self.setData({ submitting: false });
        return page.alert(error);
      });
    }
  }
});
