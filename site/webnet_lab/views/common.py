"""What the views share: colours, bokeh figures, message boxes."""
from __future__ import annotations

import html

BLUE, ORANGE, GREY = "#1f77b4", "#ff7f0e", "#9e9e9e"
VERDICT_COLOURS = {"excellent": "#1a7f37", "acceptable": "#4d8f00", "suspicious": "#b35900", "wrong": "#c62828"}
DIGIT_LABELS = tuple(str(i) for i in range(10))  # the ten classes as plot categories
MARKER_MARGIN = 0.03  # of an x axis, on each side, where markers sit on its ends (whole epochs)


def figure(title, height=260, **kw):
    """A bokeh figure without tools, stretched to its container's width."""
    from bokeh.plotting import figure as bokeh_figure  # here: no plot at start-up (0.08 s in the page)

    f = bokeh_figure(title=title, height=height, sizing_mode="stretch_width", tools="", toolbar_location=None, **kw)
    f.title.text_font_size = "13px"
    f.outline_line_color = None
    return f


def alert_html(text):
    """A warning in a red box (an HTML pane, read out by screen readers), or nothing."""
    if not text:
        return ""
    return ("<div role='alert' style='border:1px solid #c62828;border-left-width:6px;border-radius:4px;"
            f"padding:8px 12px;color:#b71c1c;background:#fff5f5'>{html.escape(text)}</div>")


def esc(text):
    return html.escape(str(text))


def on_upload(file_input, callback):
    """Call ``callback(content, filename)`` once per file chosen in ``file_input`` (a Panel
    FileInput): its value and file name may arrive as separate changes, and Panel gives an empty
    file the value None, so a file name alone is an empty file."""
    seen = []

    def changed(*events):
        name, value = file_input.filename, file_input.value
        if name and seen[-1:] != [(id(value), name)]:
            seen.append((id(value), name))
            callback(value if value is not None else b"", name)
    file_input.param.watch(changed, ["value", "filename"])


def scrolling(table):
    """``table`` (HTML) in a box that scrolls sideways when the table is wider than the screen: on
    a phone the page itself stays as wide as the screen, and the first columns in view."""
    return f"<div class='table-scroll'>{table}</div>"


def table_html(summary, caption, header, rows, css_class):
    """A chart's numbers as a table in a closed <details>: for screen readers, and for copying.
    ``header`` and each of ``rows`` are lists of cells (the rows' first cells are their headers)."""
    head = "".join(f"<th scope='col'>{esc(h)}</th>" for h in header)
    body = "".join("<tr><th scope='row'>" + esc(row[0]) + "</th>" + "".join(f"<td>{esc(c)}</td>" for c in row[1:])
                   + "</tr>" for row in rows)
    return (f"<details><summary>{esc(summary)}</summary>" + scrolling(
        f"<table class='{css_class}' style='border-collapse:collapse;text-align:right'>"
        f"<caption>{esc(caption)}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>") + "</details>")


def chart(fig, t, filename, **kw):
    """``fig`` with a button under it that saves it as a PNG (in the page: no round trip to Python)."""
    import panel as pn

    from ..components.save_png import SavePng

    chart_class = f"webnet-chart-{fig.id}"
    fig.css_classes = [*fig.css_classes, chart_class]
    save = SavePng(label=t("app.save_png", title=fig.title.text), chart_class=chart_class, filename=filename,
                   css_classes=["save-png"], margin=(0, 10), sizing_mode="stretch_width")
    return pn.Column(pn.pane.Bokeh(fig), save, **kw)
