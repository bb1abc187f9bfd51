// Built files go to console/dist, served by Flask under /console/ (backend/__init__.py).
// Element Plus is imported per component (unplugin-vue-components resolves <el-…> tags and their CSS),
// ECharts per chart type (src/components/EChart.vue): the first page stays small (bench/console_bench.py).
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'
import Components from 'unplugin-vue-components/vite'
import { ElementPlusResolver } from 'unplugin-vue-components/resolvers'

export default defineConfig({
  base: '/console/',
  plugins: [vue(), Components({ resolvers: [ElementPlusResolver({ importStyle: 'css' })], dts: false })],
  build: { outDir: 'dist', emptyOutDir: true, assetsDir: 'assets', chunkSizeWarningLimit: 1200 },
  server: { proxy: { '/api': 'http://127.0.0.1:8000' } },
  test: { include: ['test/**/*.test.js'], environment: 'node' },
})
