// The Exercises tab's code editor: CodeJar (an editable element with indentation and undo) with
// Prism's Python highlighting, and a gutter of line numbers. The two libraries ship inside the
// lab (components/vendor/) and reach this module as text (model.libraries) when the tab is first
// shown, so the page's start-up does not load them.
//
// Python says what to show (model.opened: a text, or what the browser kept for an exercise);
// the code is kept in the browser (localStorage, under the document's key) after every change, so
// a reload loses nothing, and sent to Python (model.value) a moment after typing stops.
// Before Python checks the code it asks for it (model.asked), so a click right after typing checks
// what was typed. Tab indents; Escape, then Tab, leaves the editor (no keyboard trap).

let loading = null
function libraries(model) {
  if (loading === null) loading = (async () => {
    const { codejar, prism_core, prism_python } = model.libraries
    self.Prism = self.Prism || { manual: true }  // highlight only when asked
    new Function(prism_core)()
    new Function(prism_python)()
    const url = URL.createObjectURL(new Blob([codejar], { type: "text/javascript" }))
    const { CodeJar } = await import(url)
    URL.revokeObjectURL(url)
    return { CodeJar, Prism: self.Prism }
  })()
  return loading
}

function stored(key) {
  try { return key ? localStorage.getItem(key) : null } catch (e) { return null }
}

function store(key, text) {
  try { if (key) localStorage.setItem(key, text) } catch (e) { /* storage full or disabled: Python still has it */ }
}

// what Tab can reach, in the page's order, through the shadow roots (the browser's own move from a
// contenteditable inside one was not reliable)
const FOCUSABLE = "button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), " +
  "a[href], [tabindex]:not([tabindex='-1']), [contenteditable]:not([contenteditable='false'])"
function focusables(root, out = []) {
  for (const el of root.querySelectorAll("*")) {
    if (el.matches(FOCUSABLE) && el.getClientRects().length) out.push(el)
    if (el.shadowRoot) focusables(el.shadowRoot, out)
  }
  return out
}

function deepActive() {
  let e = document.activeElement
  while (e && e.shadowRoot && e.shadowRoot.activeElement) e = e.shadowRoot.activeElement
  return e
}

export function render({ model, el }) {
  const box = document.createElement("div")
  box.className = "webnet-editor"
  const gutter = document.createElement("div")
  gutter.className = "webnet-gutter"
  gutter.setAttribute("aria-hidden", "true")
  const code = document.createElement("div")
  code.className = "webnet-code language-python"
  code.setAttribute("role", "textbox")
  code.setAttribute("aria-multiline", "true")
  code.setAttribute("aria-label", model.label)
  code.setAttribute("aria-describedby", "webnet-editor-help")
  const help = document.createElement("p")
  help.id = "webnet-editor-help"
  help.className = "webnet-editor-help"
  help.textContent = model.help
  box.append(gutter, code)
  el.append(box, help)

  const numbers = (text) => {
    const n = text.split("\n").length
    if (gutter.childElementCount !== n) gutter.textContent = Array.from({ length: n }, (_, i) => i + 1).join("\n")
  }
  code.addEventListener("scroll", () => { gutter.scrollTop = code.scrollTop })
  let escaped = false
  box.addEventListener("keydown", (e) => {  // capture: before CodeJar sees the key
    if (e.key === "Escape") { escaped = true; return }
    if (e.key === "Tab" && escaped) {  // to the control after (or, with Shift, before) the editor
      e.stopPropagation()  // CodeJar would indent
      escaped = false
      const all = focusables(document), at = all.indexOf(code), step = e.shiftKey ? -1 : 1
      // the first after it that takes the focus (a hidden file input does not)
      for (let i = at + step; at >= 0 && i >= 0 && i < all.length; i += step) {
        all[i].focus()
        if (deepActive() === all[i]) { e.preventDefault(); break }
      }  // else the browser moves the focus
      return
    }
    if (!["Shift", "Control", "Alt", "Meta"].includes(e.key)) escaped = false  // (Escape, Shift+Tab)
  }, true)

  libraries(model).then(({ CodeJar, Prism }) => {
    const highlight = (editor) => {
      editor.innerHTML = Prism.highlight(editor.textContent, Prism.languages.python, "python")
      // CodeJar highlights 30 ms after a key and then puts the caret back, which takes the focus
      // back too: if it had left the editor by then (Escape, Tab), it is given back to where it went
      const went = deepActive()
      if (went && went !== editor && went !== document.body) {
        queueMicrotask(() => { if (deepActive() === editor) went.focus() })
      }
    }
    const jar = CodeJar(code, highlight, { tab: "    ", indentOn: /[:({\[]$/, addClosing: false })
    let timer = null, key = ""
    const open = () => {  // what Python asks the editor to show
      const doc = model.opened
      key = doc.key || ""
      const kept = doc.prefer_stored ? stored(key) : null
      const text = kept !== null ? kept : (doc.text || "")
      clearTimeout(timer)
      jar.updateCode(text)
      numbers(text)
      store(key, text)
      if (model.value !== text) model.value = text
    }
    jar.onUpdate((text) => {
      numbers(text)
      store(key, text)
      clearTimeout(timer)
      timer = setTimeout(() => { if (model.value !== text) model.value = text }, 300)
    })
    // a button pressed right after typing: send the text first (blur comes before the click)
    code.addEventListener("blur", () => {
      clearTimeout(timer)
      const text = jar.toString()
      store(key, text)
      if (model.value !== text) model.value = text
    })
    model.on("opened", open)
    // Python asks for the code before it checks it (a parameter, not a message: the page's
    // embedded document does not deliver messages from Python), and gets it with the request's number
    model.on("asked", () => {
      clearTimeout(timer)
      const text = jar.toString()
      store(key, text)
      // after this tick: a message sent while the page applies Python's change would be dropped
      setTimeout(() => model.send_msg({ answered: model.asked, text }), 0)
    })
    open()
    code.dataset.ready = "true"
  })
}
