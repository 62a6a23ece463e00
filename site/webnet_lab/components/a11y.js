// What bokeh's and Panel's widgets lack for keyboards, screen readers and small screens, added
// where they are drawn (inside nested shadow roots, which the page's own CSS and scripts cannot
// reach). Runs in both runtimes; renders nothing itself.
//
// - every shadow root gets the lab's stylesheet (model.css: readable sizes, 44 px touch targets,
//   a visible focus ring, no motion for prefers-reduced-motion);
// - tabs follow the ARIA tabs pattern: role=tablist/tab, aria-selected, one tab stop, arrow keys,
//   Home/End, Enter/Space; the tab strip comes before its panels in the focus order, and a hidden
//   panel is inert (bokeh hides it with visibility: hidden, which Panel's HTML panes undo for their
//   content: without it, hidden tabs' links, summaries and texts were reached and read out);
// - the page's parts are landmarks (banner, main, contentinfo: from the classes app.py gives them);
// - slider handles get their label as accessible name and the value shown as aria-valuetext (the
//   learning-rate slider announces 0.1, not its position); spinner buttons and file inputs get names
//   (model.labels); a check box gets its label, and its text toggles it; the buttons of a choice
//   (RadioButtonGroup) say which is pressed, and the group is named (model.labels); charts, which
//   have no tools here, are not tab stops;
// - a button that disables or hides itself after a click (Pause, "Use the trained model") hands
//   the focus to an enabled neighbour; Escape on a box a button shows (model.closes: the share
//   box), or on its button, hides it as that button does and puts the focus on the button;
// - the address follows the experiment's settings without a history entry per change (Panel's
//   Location pushes one each time: Back would walk through settings the lab does not go back to).

export function render({ model, el }) {
  if (!history.webnetReplaces) {
    history.webnetReplaces = true
    history.pushState = function (state, title, url) { return History.prototype.replaceState.call(this, state, title, url) }
  }
  const sheet = new CSSStyleSheet()
  sheet.replaceSync(model.css)
  const labels = model.labels
  const seen = new WeakSet()
  let lastFocused = null

  // the text a root shows (its stylesheets' text left out)
  const shownText = (root) => {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
      acceptNode: (n) => (n.parentElement?.closest("style, script") ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT),
    })
    let text = ""
    while (walker.nextNode()) text += walker.currentNode.nodeValue
    return text.replace(/\s+/g, " ").trim()
  }
  const labelOf = (host) => host && labels[Object.keys(labels).find((k) => host.classList.contains(k))]

  function fixTabs(header) {
    header.setAttribute("role", "tablist")
    const tabs = [...header.querySelectorAll(".bk-tab")]
    tabs.forEach((tab) => {
      const active = tab.classList.contains("bk-active")
      tab.setAttribute("role", "tab")
      tab.setAttribute("aria-selected", active ? "true" : "false")
      tab.tabIndex = active ? 0 : -1
    })
    const root = header.getRootNode()
    const panels = [...root.children].filter((el) => el !== header && el.tagName === "DIV")
    if (panels.length === tabs.length) {
      panels.forEach((panel, i) => {
        panel.setAttribute("role", "tabpanel")
        panel.setAttribute("aria-label", tabs[i].textContent.trim())
        panel.inert = !tabs[i].classList.contains("bk-active")
      })
      // (bokeh draws the strip after the panels and places it above them with CSS)
      if (panels[0].compareDocumentPosition(header) & Node.DOCUMENT_POSITION_FOLLOWING) root.insertBefore(header, panels[0])
    }
    if (header.dataset.webnetKeys) return
    header.dataset.webnetKeys = "1"
    header.addEventListener("keydown", (e) => {
      const tabs = [...header.querySelectorAll(".bk-tab")]
      const at = tabs.indexOf(e.target)
      if (at < 0) return
      const to = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: tabs.length - 1 }[e.key]
      if (to !== undefined) {
        const next = tabs[(to + tabs.length) % tabs.length]
        next.click()
        next.focus()
        e.preventDefault()
      } else if (e.key === "Enter" || e.key === " ") {
        e.target.click()
        e.preventDefault()
      }
    })
  }

  function fix(root) {
    for (const header of root.querySelectorAll(".bk-header")) fixTabs(header)
    for (const role of ["banner", "main", "contentinfo"]) {
      for (const host of root.querySelectorAll(`.landmark-${role}`)) host.setAttribute("role", role)
    }
    for (const group of root.querySelectorAll(".bk-input-group")) {
      const title = group.querySelector(".bk-slider-title")
      const handle = group.querySelector(".noUi-handle[role=slider]")
      if (title && handle) {
        const value = title.querySelector(".bk-slider-value")
        const name = title.firstChild ? title.firstChild.textContent.replace(/[:\s]+$/, "") : ""
        if (name) handle.setAttribute("aria-label", name)
        if (value) handle.setAttribute("aria-valuetext", value.textContent)
      }
    }
    for (const button of root.querySelectorAll(".bk-spin-btn-up, .bk-spin-btn-down")) {
      button.setAttribute("aria-label", button.classList.contains("bk-spin-btn-up") ? labels.increase : labels.decrease)
      button.tabIndex = -1  // the arrow keys in the field do the same
    }
    // a number field opens the phone's number keyboard (the arrows are hidden under a finger)
    for (const input of root.querySelectorAll(".bk-spin-wrapper > input")) input.inputMode = "decimal"
    for (const box of root.querySelectorAll("input[type=checkbox]")) {
      if (box.closest("label")) continue  // one of a group: its <label> names it
      const text = box.parentNode.querySelector(".bk-label")
      const name = text ? text.textContent.trim() : shownText(box.getRootNode())
      if (name && box.getAttribute("aria-label") !== name) box.setAttribute("aria-label", name)
      // its text toggles it, as a <label> would (bokeh draws a <div>): a finger-sized target
      if (text && !text.dataset.webnetToggles) {
        text.dataset.webnetToggles = "1"
        text.addEventListener("click", () => box.click())
      }
    }
    for (const input of root.querySelectorAll("input[type=file]")) {
      const name = labelOf(input.getRootNode().host)
      if (name) input.setAttribute("aria-label", name)
    }
    if (root.host && /ButtonGroup\b/.test(root.host.className)) {
      const group = root.querySelector(".bk-btn-group")
      const name = labelOf(root.host)
      if (group) group.setAttribute("role", "group")
      if (group && name) group.setAttribute("aria-label", name)
      for (const button of root.querySelectorAll(".bk-btn-group > button")) {
        button.setAttribute("aria-pressed", button.classList.contains("bk-active") ? "true" : "false")
      }
    }
    for (const layer of root.querySelectorAll(".bk-events[tabindex='0']")) layer.tabIndex = -1
  }

  function visit(root) {
    if (!seen.has(root)) {
      seen.add(root)
      root.addEventListener("focusin", focused, true)
      if (root !== document && !root.adoptedStyleSheets.includes(sheet)) {
        root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet]
      }
      new MutationObserver((records) => {
        // a new widget's shadow root gets the stylesheet before the next paint; the rest can wait
        // for the next frame
        for (const record of records) for (const node of record.addedNodes) visitNew(node)
        schedule(root)
      }).observe(root, {
        subtree: true, childList: true, characterData: true, attributes: true,
        attributeFilter: ["class", "disabled"],
      })
    }
    fix(root)
    for (const node of root.querySelectorAll("*")) if (node.shadowRoot) visit(node.shadowRoot)
  }

  function visitNew(node) {
    if (node.nodeType !== Node.ELEMENT_NODE) return
    if (node.shadowRoot) visit(node.shadowRoot)
    for (const inner of node.querySelectorAll("*")) if (inner.shadowRoot) visit(inner.shadowRoot)
  }

  const pending = new Set()
  let frame = 0
  function schedule(root) {
    pending.add(root)
    if (!frame) frame = requestAnimationFrame(flush)
  }
  function flush() {
    frame = 0
    const roots = [...pending]
    pending.clear()
    for (const root of roots) {
      try { visit(root) } catch (e) { console.error(e) }  // one odd widget must not stop the rest
    }
    refocus()
  }

  // a focused button that became disabled, hidden or was drawn anew leaves the focus on the body:
  // give it to the first enabled button near it, looking outwards from the innermost of its
  // ancestors (across shadow roots) still in the page
  let lastPath = []
  // (heard on every root: a move between two elements of one shadow tree never reaches the
  // document, whose listeners would keep the focus that was before)
  function focused(e) {
    lastPath = e.composedPath().filter((n) => n instanceof Element || n instanceof ShadowRoot)
    lastFocused = lastPath[0] || null
  }
  // the first element in `root`, or in a shadow root inside it, for which `matches` is true
  function deepFind(root, matches) {
    for (const el of root.querySelectorAll("*")) {
      if (matches(el)) return el
      const inner = el.shadowRoot && deepFind(el.shadowRoot, matches)
      if (inner) return inner
    }
    return null
  }
  const enabledButton = (el) => el.tagName === "BUTTON" && !el.disabled && el.getClientRects().length > 0
  // the lost button's neighbours may be enabled by a later change than the one disabling it: look
  // again for a few frames
  const RETRY_FRAMES = 30
  function refocus(tries = 0) {
    if (!lastFocused || !(lastFocused.disabled || !lastFocused.isConnected || !lastFocused.getClientRects().length)) return
    let active = document.activeElement  // (the browser may not have moved it off the button yet)
    while (active && active.shadowRoot && active.shadowRoot.activeElement) active = active.shadowRoot.activeElement
    // it went elsewhere, unless to a shadow host on the way to the lost button (the browser clears
    // the focus of nested shadow roots one at a time)
    if (active && active !== document.body && active !== lastFocused && !lastPath.includes(active)) return
    for (const node of lastPath.slice(1, 8)) {
      if (!node.isConnected) continue
      const button = deepFind(node, enabledButton)
      if (button) { button.focus(); lastFocused = button; return }
    }
    if (tries < RETRY_FRAMES) requestAnimationFrame(() => refocus(tries + 1))
  }

  document.addEventListener("keydown", (e) => {
    if (e.key !== "Escape" || e.defaultPrevented) return
    for (const [box, toggle] of Object.entries(model.closes)) {
      const shown = deepFind(document, (el) => el.classList.contains(box))
      const host = deepFind(document, (el) => el.classList.contains(toggle))
      const button = host && (host.shadowRoot ? host.shadowRoot.querySelector("button") : host)
      // (from the button, the box or nowhere in particular: the code editor has its own Escape)
      const path = e.composedPath()
      const here = path.includes(host) || path.includes(shown) || e.target === document.body
      if (here && shown && shown.getClientRects().length && button) {
        button.click()
        button.focus()
        e.preventDefault()
      }
    }
  })

  document.documentElement.style.setProperty("--bokeh-font-size", model.font_size)
  // a sideways stroke on the drawing pad must not be taken for "go back" by the browser
  document.documentElement.style.overscrollBehaviorX = "none"
  el.style.display = "none"
  visit(document)
}
