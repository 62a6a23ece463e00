"""The Model tab: download the model in use, upload a saved one."""
from __future__ import annotations

import panel as pn
import param

from ..state.store import ModelStore
from .common import esc, on_upload, scrolling


class ModelView(pn.viewable.Viewer):
    store = param.ClassSelector(class_=ModelStore)

    def __init__(self, t, **params):
        super().__init__(**params)
        self.t = t

    def __panel__(self):
        s, t = self.store, self.t
        download = pn.widgets.FileDownload(callback=s.download, filename="webnet-model.npz",
                                           label=t("model.download"), button_type="primary",
                                           width=300, sizing_mode="fixed")
        upload = pn.widgets.FileInput(accept=".npz", multiple=False, width=300, sizing_mode="fixed",
                                      css_classes=["upload-model"])
        on_upload(upload, s.upload)
        current = pn.pane.HTML(pn.bind(lambda v: f"<p data-version='{v}'>{esc(t('model.current', model=t(s.models.label())))}</p>",
                                       s.models.param.version), css_classes=["model-current"])
        card = pn.pane.HTML(pn.bind(self.card_html, s.param.card), css_classes=["model-card"])
        message = pn.pane.Alert(pn.bind(lambda m: t(m) if m else "", s.param.message), alert_type="success",
                                visible=pn.bind(bool, s.param.message), css_classes=["upload-message"])
        s.param.watch(lambda e: setattr(message, "alert_type", "success" if e.new else "danger"), "ok")
        return pn.Column(current, download, pn.pane.HTML(f"<h2 class='section'>{t('model.upload_heading')}</h2>"),
                         pn.pane.HTML(f"<p>{t('model.upload_help')}</p>"), upload, message, card)

    def card_html(self, card):
        """The uploaded file's model card, as it describes itself."""
        if not card:
            return ""
        rows = "".join(f"<tr><th scope='row' style='text-align:left;padding:2px 10px'>{esc(k)}</th>"
                       f"<td style='padding:2px 10px'>{esc(v)}</td></tr>" for k, v in card.items())
        return (f"<h2 class='section'>{esc(self.t('model.card_heading'))}</h2>"
                + scrolling(f"<table class='card' style='border-collapse:collapse'><tbody>{rows}</tbody></table>"))


class ModelBar(pn.viewable.Viewer):
    """Above every tab: the model in use, named as everywhere else, and the others to switch to.
    When a finished run reads fewer test digits than the pretrained model, it says so."""

    models = param.Parameter()

    def __init__(self, t, **params):
        super().__init__(**params)
        self.t = t
        m = self.models
        self.buttons = {source: pn.widgets.Button(name=t(f"model.use_{source}"), button_type="light",
                                                  sizing_mode="fixed", width=220, height=32, margin=(0, 6))
                        for source in ("pretrained", "trained", "uploaded")}
        for source, button in self.buttons.items():
            button.on_click(lambda e, source=source: m.use(source))
        self.text = pn.pane.HTML("", css_classes=["model-in-use"], margin=(0, 10), styles={"flex": "1 1 400px"})
        # said once when another model is put in use (the line above also changes every epoch)
        self.announce = pn.pane.HTML("", css_classes=["model-announce"], margin=0)
        self._announced = m.source
        m.param.watch(self.update, "version")
        m.trainer.param.watch(self.update, ["running", "epoch", "phase"])
        self.update()

    def update(self, *events):
        m, t = self.models, self.t
        tr = m.trainer
        note = ""
        if m.source == "trained" and not tr.running and tr.history:
            pre = m.test_accuracy("pretrained")
            if tr.history[-1]["test_acc"] < pre:
                note = " " + t("model.worse_than_pretrained", acc=f"{pre:.4f}")
        self.text.object = (f"<p data-version='{m.version}' data-source='{m.source}'>"
                            f"<b>{esc(t('model.in_use'))}</b> {esc(t(m.label()))}.{esc(note)}</p>")
        if m.source != self._announced:
            self._announced = m.source
            self.announce.object = (f"<p role='status' class='sr-only'>{esc(t('model.in_use'))} "
                                    f"{esc(t(m.label()))}.</p>")
        available = m.available()
        for source, button in self.buttons.items():
            button.visible = source in available and source != m.source and not (source == "trained" and tr.running)

    def __panel__(self):
        return pn.FlexBox(self.text, *self.buttons.values(), self.announce, align_items="center", gap="4px",
                          css_classes=["model-bar"], styles={"background": "#f4f6f8", "border-radius": "6px",
                                                             "padding": "4px"})
