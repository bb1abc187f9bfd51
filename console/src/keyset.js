// A keyset list of the district's API as page state: `fetch(after)` answers {items, next_after}.
import { reactive, ref } from 'vue'
import { Keyset } from './lib/district.js'
import { fail } from './lib/ui.js'

export function useKeyset(fetch) {
  const state = reactive(new Keyset())
  const items = ref([])
  const loading = ref(false)
  async function load() {
    loading.value = true
    try {
      const answer = await fetch(state.after)
      items.value = answer.items
      state.seen(answer)
    } catch (e) { fail(e) } finally { loading.value = false }
  }
  return {
    state, items, loading, load,
    reset: () => { state.reset(); return load() },
    next: () => { state.forward(); return load() },
    prev: () => { state.back(); return load() },
  }
}
