// Loading, a failure (the server's Chinese message, with 重试) or an empty list, in one place.
Component({
  properties: {
    loading: { type: Boolean, value: false },
    error: { type: String, value: '' },
    empty: { type: Boolean, value: false },
    emptyText: { type: String, value: '暂无内容' }
  },
  methods: {
    retry: function () {
      this.triggerEvent('retry');
    }
  }
});
