// A text kept in the browser's storage (see browser_store.py): read once when shown, written on
// every change Python makes. Storage that is full or turned off loses the text, never the page.
export function render({ model, el }) {
  el.style.display = "none"
  let kept = null
  try { kept = localStorage.getItem(model.key) } catch (e) { /* storage turned off */ }
  model.stored = kept === null ? "" : kept
  model.on("value", () => {
    try { if (model.value !== null) localStorage.setItem(model.key, model.value) } catch (e) { /* full or off */ }
  })
}
