"""The Model tab: download the model in use, upload a saved one."""
from __future__ import annotations

import panel as pn
import param

from ..state.store import ModelStore


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
        upload = pn.widgets.FileInput(accept=".npz", multiple=False, width=300, sizing_mode="fixed")
        seen = []

        def uploaded(*events):  # value and filename arrive as two changes, in either order
            if upload.value is not None and upload.filename and seen[-1:] != [(id(upload.value), upload.filename)]:
                seen.append((id(upload.value), upload.filename))
                s.upload(upload.value, upload.filename)
        upload.param.watch(uploaded, ["value", "filename"])
        current = pn.pane.HTML(pn.bind(lambda *_: f"<p>{t('model.current', model=t(s.trainer.describe_current()))}</p>",
                                       s.trainer.param.source, s.trainer.param.epoch))
        message = pn.pane.Alert(pn.bind(lambda m: t(m) if m else "", s.param.message), alert_type="success",
                                visible=pn.bind(bool, s.param.message), css_classes=["upload-message"])
        s.param.watch(lambda e: setattr(message, "alert_type", "success" if e.new else "danger"), "ok")
        return pn.Column(current, download, pn.pane.HTML(f"<h3>{t('model.upload_heading')}</h3>"),
                         pn.pane.HTML(f"<p>{t('model.upload_help')}</p>"), upload, message)
