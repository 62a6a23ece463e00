// The drawing pad: a canvas drawn on with pointer events (mouse, pen and touch alike) and its
// Clear button. While a stroke is drawn it sends the ink every 150 ms; at the end of each stroke
// it sends it once more with the stroke's number (Python echoes that number when it has answered,
// so tests and the benchmark can wait for the answer to this stroke); Clear sends an empty image.
// Messages go to DrawingPad._handle_msg: {image: base64 of the size x size alpha channel, stroke}.

export function render({ model, el }) {
  const size = model.size
  const canvas = document.createElement("canvas")
  canvas.className = "webnet-pad"
  canvas.setAttribute("role", "img")
  canvas.setAttribute("aria-label", model.label)
  canvas.width = size
  canvas.height = size
  const ctx = canvas.getContext("2d", { willReadFrequently: true })
  ctx.lineCap = "round"
  ctx.lineJoin = "round"
  ctx.strokeStyle = "#000"
  ctx.fillStyle = "#000"
  ctx.lineWidth = Math.round(size / 12)
  let drawing = false, last = null, lastSent = 0, strokes = 0

  const pos = (e) => {
    const r = canvas.getBoundingClientRect()
    return [(e.clientX - r.left) * size / r.width, (e.clientY - r.top) * size / r.height]
  }
  const ink = () => {
    const rgba = ctx.getImageData(0, 0, size, size).data
    const alpha = new Uint8Array(size * size)
    for (let i = 0; i < alpha.length; i++) alpha[i] = rgba[4 * i + 3]
    let bin = ""
    for (let i = 0; i < alpha.length; i += 8192) bin += String.fromCharCode.apply(null, alpha.subarray(i, i + 8192))
    return btoa(bin)
  }
  const send = (stroke) => {
    lastSent = performance.now()
    model.send_msg({ image: ink(), stroke })
  }

  canvas.addEventListener("pointerdown", (e) => {
    drawing = true
    canvas.setPointerCapture(e.pointerId)
    last = pos(e)
    ctx.beginPath()
    ctx.arc(last[0], last[1], ctx.lineWidth / 2, 0, 2 * Math.PI)
    ctx.fill()
    e.preventDefault()
  })
  canvas.addEventListener("pointermove", (e) => {
    if (!drawing) return
    const p = pos(e)
    ctx.beginPath()
    ctx.moveTo(last[0], last[1])
    ctx.lineTo(p[0], p[1])
    ctx.stroke()
    last = p
    if (performance.now() - lastSent > 150) send(null)
    e.preventDefault()
  })
  const end = () => {
    if (!drawing) return
    drawing = false
    strokes += 1
    canvas.dataset.strokes = strokes  // (tests wait for the answer to this stroke by its number)
    send(strokes)
  }
  canvas.addEventListener("pointerup", end)
  canvas.addEventListener("pointercancel", end)

  // Clear lives here, not in Python: it needs no round trip, so it answers at once
  const clear = document.createElement("button")
  clear.className = "webnet-clear"
  clear.textContent = model.clear_label
  model.on("clear_label", () => { clear.textContent = model.clear_label })
  clear.addEventListener("click", () => {
    ctx.clearRect(0, 0, size, size)
    model.send_msg({ image: "", stroke: null })
  })
  el.appendChild(canvas)
  el.appendChild(clear)
}
