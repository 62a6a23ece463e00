"""The class's own handwriting (on the Draw tab, under the pad): label the drawing and keep it, the
kept drawings as a gallery (each removable), download / import them as one .npz, and how the model
in use reads them beside MNIST's test digits, with the ones it reads wrong."""
from __future__ import annotations

import io

import panel as pn
import param

from ..png import png_data_uri
from ..state.classifier import DrawingClassifier
from ..state.drawings import ClassDrawings
from .common import esc, on_upload

SHOWN = 24  # kept drawings shown in the gallery (the newest), each with its Remove button
SHOWN_WRONG = 24


class ClassDrawingsView(pn.viewable.Viewer):
    drawings = param.ClassSelector(class_=ClassDrawings)
    classifier = param.ClassSelector(class_=DrawingClassifier)

    def __init__(self, t, show_train=None, **params):
        super().__init__(**params)
        self.t = t
        self.show_train = show_train  # opens the Train tab
        w = pn.widgets
        self.label = w.Select(name=t("drawings.label"), options=[str(d) for d in range(10)], value="0", width=120,
                              sizing_mode="fixed")
        # the button says the label it keeps, once Python has it (under `panel serve` a quick click
        # could otherwise overtake a label just chosen)
        self.keep = w.Button(name=t("drawings.keep_as", label=0), button_type="primary", width=220,
                             sizing_mode="fixed", css_classes=["keep-drawing"], align="end")
        self.keep.on_click(self._keep)
        self.label.param.watch(lambda e: setattr(self.keep, "name", t("drawings.keep_as", label=e.new)), "value")
        self.message = pn.pane.HTML("", css_classes=["drawings-message"], sizing_mode="stretch_width")
        self.gallery = pn.FlexBox(gap="8px", sizing_mode="stretch_width", css_classes=["drawings-gallery"])
        self.summary = pn.pane.HTML("", css_classes=["drawings-summary"], sizing_mode="stretch_width")
        self.wrong = pn.pane.HTML("", css_classes=["drawings-wrong"], sizing_mode="stretch_width")
        self.download = w.FileDownload(callback=lambda: io.BytesIO(self.drawings.export()), filename="webnet-drawings.npz",
                                       label=t("drawings.download"), button_type="light", width=300,
                                       sizing_mode="fixed", css_classes=["download-drawings"])
        self.upload = w.FileInput(accept=".npz", multiple=False, width=300, sizing_mode="fixed",
                                  css_classes=["upload-drawings"])
        on_upload(self.upload, self.drawings.import_file)
        self.clear = w.Button(name=t("drawings.clear"), button_type="default", width=300, sizing_mode="fixed",
                              css_classes=["clear-drawings"])
        self.clear.on_click(self.drawings.clear)
        self.train_with = w.Button(name=t("drawings.train_with"), button_type="default", width=300,
                                   sizing_mode="fixed", css_classes=["train-with-drawings"])
        self.train_with.on_click(self._train_with)
        self.drawings.param.watch(self._show_drawings, "drawings")
        self.drawings.param.watch(self._show_message, ["message", "ok"])
        self.classifier.param.watch(self._answered, "probabilities")
        self.classifier.models.param.watch(self._evaluate, "version")
        self.classifier.models.trainer.param.watch(self._evaluate, "running")
        self._show_drawings()
        self._show_message()
        self._answered()

    def _keep(self, event=None):
        c = self.classifier
        image = c.preview if c.drawn() else None
        self.drawings.keep(image, int(self.label.value))

    def _train_with(self, event=None):
        """Train with the drawings mixed in: a fresh run (Reset), on the Train tab."""
        trainer = self.classifier.models.trainer
        trainer.with_drawings = True
        trainer.reset()
        if self.show_train is not None:
            self.show_train()

    def _answered(self, *_):
        """The label starts at the digit the network read (the student corrects it when it is wrong)."""
        p = self.classifier.probabilities
        self.keep.disabled = not self.classifier.drawn()
        if p is not None:
            self.label.value = str(int(p.argmax()))

    def _show_message(self, *_):
        d = self.drawings
        if d.message is None:
            self.message.object = ""
            return
        colour = "#1a7f37" if d.ok else "#b71c1c"
        role = "status" if d.ok else "alert"
        self.message.object = f"<p role='{role}' style='color:{colour}'>{esc(self.t(d.message))}</p>"

    def _show_drawings(self, *_):
        d, t = self.drawings.drawings, self.t
        n = len(d)
        items = []
        for i in range(n - 1, max(n - SHOWN, 0) - 1, -1):  # the newest first
            label = int(d.labels[i])
            remove = pn.widgets.Button(name=t("drawings.remove", number=i + 1, label=label), button_type="light",
                                       width=130, sizing_mode="fixed", css_classes=["remove-drawing"])
            remove.on_click(lambda event, i=i: self.drawings.remove(i))
            items.append(pn.Column(pn.pane.HTML(self._figure(d.images[i], label, i + 1)), remove, width=140,
                                   sizing_mode="fixed"))
        self.gallery.objects = items
        more = f" {t('drawings.more', n=n - SHOWN)}" if n > SHOWN else ""
        for widget in (self.download, self.clear, self.train_with):
            widget.visible = n > 0
        self._evaluate(more=more)

    def _figure(self, image, label, number, read=None):
        alt = self.t("drawings.alt", number=number, label=label) if read is None else \
            self.t("drawings.alt_wrong", number=number, label=label, read=read)
        caption = esc(self.t("drawings.caption", label=label) if read is None
                      else self.t("drawings.caption_wrong", label=label, read=read))
        return (f"<figure style='margin:0;text-align:center' data-label='{label}'>"
                f"<img src='{png_data_uri(image / 255.0, 3)}' width='84' height='84' alt='{esc(alt)}' "
                "style='image-rendering:pixelated;border:1px solid #bbb;border-radius:4px'/>"
                f"<figcaption>{caption}</figcaption></figure>")

    def _evaluate(self, *_, more=""):
        d, t, models = self.drawings, self.t, self.classifier.models
        n = len(d.drawings)
        if not n:
            self.summary.object = f"<p>{esc(t('drawings.none'))}</p>"
            self.wrong.object = ""
            return
        if models.trainer.running and models.source == "trained":
            return  # every chunk changes it: read again when it stops
        acc, wrong, read = d.evaluation(models.current)
        self.summary.object = (
            f"<p data-version='{models.version}' data-accuracy='{acc:.4f}'>"
            f"{esc(t('drawings.summary', n=n, right=n - len(wrong), acc=f'{100 * acc:.1f}', model=t(models.label()), mnist=f'{100 * models.test_accuracy():.1f}'))}"
            f"{esc(more)}</p>")
        held = models.trainer.held_out_accuracy() if models.source == "trained" else None
        if held is not None:
            trained = len(models.trainer.drawing_split[0])
            self.summary.object += (f"<p class='held-out' data-accuracy='{held[0]:.4f}'>"
                                    f"{esc(t('drawings.held_out', trained=trained, n=held[1], acc=f'{100 * held[0]:.1f}'))}</p>")
        figures = "".join(self._figure(d.drawings.images[i], int(d.drawings.labels[i]), i + 1, int(r))
                          for i, r in list(zip(wrong, read))[:SHOWN_WRONG])
        self.wrong.object = (f"<h3>{esc(t('drawings.wrong_heading', n=len(wrong)))}</h3>"
                             f"<div style='display:flex;flex-wrap:wrap;gap:8px'>{figures}</div>") if len(wrong) else ""

    def __panel__(self):
        t = self.t
        return pn.Column(
            pn.pane.HTML(f"<h2 class='section'>{esc(t('drawings.heading'))}</h2><p>{esc(t('drawings.intro'))}</p>"),
            pn.Row(self.label, self.keep), self.message, self.summary, self.train_with, self.gallery, self.wrong,
            pn.pane.HTML(f"<h3>{esc(t('drawings.files_heading'))}</h3><p>{esc(t('drawings.files_help'))}</p>"),
            self.download, self.upload, self.clear, sizing_mode="stretch_width", css_classes=["class-drawings"])
