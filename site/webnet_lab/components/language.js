// The language choice: a native select; choosing reloads the page with ?lang= set (the lab is
// built in one language; the student's code is kept in the browser, a trained network is not,
// and model.warning says so before it happens if there is one to lose).
export function render({ model, el }) {
  document.documentElement.lang = model.current  // screen readers pick their voice by it
  const label = document.createElement("label")
  label.className = "webnet-language"
  const text = document.createElement("span")
  text.textContent = model.label
  const select = document.createElement("select")
  for (const [code, name] of Object.entries(model.languages)) {
    const option = document.createElement("option")
    option.value = code
    option.textContent = name
    option.lang = code
    option.selected = code === model.current
    select.appendChild(option)
  }
  select.addEventListener("change", () => {
    if (model.warning && !window.confirm(model.warning)) { select.value = model.current; return }
    const query = new URLSearchParams(window.location.search)
    query.set("lang", select.value)
    window.location.search = query.toString()
  })
  label.append(text, select)
  el.appendChild(label)
}
