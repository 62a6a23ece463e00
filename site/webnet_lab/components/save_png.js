// Save a chart as PNG: bokeh draws the whole chart (curves, axes, title, legend) on its first
// canvas, found through the shadow roots from the element with the chart's class. (Bokeh's own
// export needs the plot's view, which cannot be reached: Panel's FlexBox does not list its
// children's views.)
function find(root, test) {
  for (const el of root.querySelectorAll("*")) {
    if (test(el)) return el
    const inner = el.shadowRoot && find(el.shadowRoot, test)
    if (inner) return inner
  }
  return null
}

export function render({ model, el }) {
  const button = document.createElement("button")
  button.type = "button"
  button.className = "webnet-save-png"
  button.textContent = model.label
  model.on("label", () => { button.textContent = model.label })
  button.addEventListener("click", () => {
    const host = find(document, (e) => e.classList.contains(model.chart_class))
    const canvas = host && find(host.shadowRoot || host, (e) => e.tagName === "CANVAS")
    if (!canvas) return
    canvas.toBlob((blob) => {
      const a = document.createElement("a")
      a.href = URL.createObjectURL(blob)
      a.download = model.filename
      document.body.appendChild(a)
      a.click()
      a.remove()
      setTimeout(() => URL.revokeObjectURL(a.href), 60000)
    }, "image/png")
  })
  el.appendChild(button)
}
