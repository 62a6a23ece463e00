"""The App: the lab's state objects and the tabs over them, each tab built when first shown."""
from __future__ import annotations

import sys
from urllib.parse import urlencode

import numpy as np
import panel as pn

import webnet

# Every custom component's class must exist before the document is first sent to the page: bokeh
# sends the definitions of data models only then, and a tab built later may use them. Their
# libraries load when an instance is made (the editor's: when the Exercises tab is first shown).
from .components import code_editor, drawing_pad, save_png  # noqa: F401
from .components.a11y import Accessibility
from .components.browser_store import BrowserStore
from .components.language import LanguageSwitch
from .context import startup
from .i18n import LANGUAGES, Catalogue, pick_language
from .qr import load_segno, qr_svg
from .state.checker import GradientChecker
from .state.classifier import DrawingClassifier
from .state.data import N_TEST, N_TRAIN
from .state import link
from .state.exercise import EXERCISES, ExerciseSession
from .state.drawings import ClassDrawings
from .state.models import Models
from .state.runs import Runs
from .state.store import ModelStore
from .state.trainer import Trainer
from .views.common import esc
from .views.class_drawings import ClassDrawingsView
from .views.draw import DrawView
from .views.gradcheck import GradientCheckView
from .views.inside import InsideView
from .views.inspect import InspectView
from .views.model import ModelBar, ModelView
from .views.runs import RunsView
from .views.train import TrainView

TABS = ("train", "inspect", "gradcheck", "exercises", "draw", "inside", "model")
RUNS_KEY = "webnet-runs"  # the browser storage's keys: the kept runs, the class's kept drawings
DRAWINGS_KEY = "webnet-drawings"


def kept_in_browser(key, state, params, merge, dumps):
    """A BrowserStore for ``state``: what the browser kept goes to ``merge`` once the page shows the
    store, and ``dumps()`` is kept again whenever ``params`` of ``state`` change."""
    store = BrowserStore(key=key, width=0, height=0, margin=0)
    store.param.watch(lambda event: merge(event.new), "stored")
    state.param.watch(lambda *_: setattr(store, "value", dumps()), params)
    return store


class App(pn.viewable.Viewer):
    """The whole lab: state objects, and the tabs over them in one language."""

    def __init__(self, lang=None, query=None, **params):
        super().__init__(**params)
        found, languages = startup()
        query = found if query is None else query
        self.query = query
        self.t = Catalogue(lang or pick_language(query.get("lang"), languages))
        self.trainer = Trainer()
        self.models = Models(self.trainer)
        self.checker = GradientChecker(self.models)
        self.classifier = DrawingClassifier(self.models)
        # the kept runs and the class's drawings live in the browser
        self.runs = Runs(self.trainer)
        self.runs_store = kept_in_browser(RUNS_KEY, self.runs, ["runs", "shown"], self.runs.merge, self.runs.dumps)
        self.drawings = ClassDrawings()
        self.drawings_store = kept_in_browser(DRAWINGS_KEY, self.drawings, ["drawings"], self.drawings.merge_stored,
                                              self.drawings.dumps)
        self.trainer.class_drawings = lambda: self.drawings.drawings
        self.drawings.param.watch(lambda e: setattr(self.trainer, "drawings_kept", len(e.new)), "drawings")
        self.store = ModelStore(self.models)
        self.session = ExerciseSession(self.trainer)
        self.tabs = None
        self._share_box = self._segno = None  # the Share control's, once opened
        # the experiment the link describes (webnet_lab.state.link)
        values, self.start_tab, exercise, self.link_problems = link.read(
            {k: v for k, v in query.items() if k != "lang"}, self.trainer, TABS, list(EXERCISES))
        if "lang" in query and query["lang"] not in LANGUAGES:
            self.link_problems.append(("lang", query["lang"]))
        self.trainer.param.update(values)
        if exercise:
            self.session.exercise = exercise
        if query.get("kernel") == "off":  # the benchmark's switch: numpy's own products in the page
            from webnet import accel

            accel.disable()

    def link_query(self):
        """The query of a link to the lab as it is now (settings only)."""
        tab = TABS[self.tabs.active] if self.tabs is not None else TABS[self.start_tab or 0]
        return link.write(self.trainer, tab, self.session.exercise, self.t.lang)

    def share_url(self):
        """The address of the lab as it is now (the page's own host, the link's settings)."""
        location, query = pn.state.location, urlencode(self.link_query())
        if location is None or not location.hostname:
            return "?" + query
        port = f":{location.port}" if location.port else ""
        return f"{location.protocol}//{location.hostname}{port}{location.pathname}?{query}"

    async def share(self, box, button=None):
        """Show (or hide) the link as a QR code and as text in ``box``; ``button`` (the one that
        does it) says which it will do next."""
        if box.visible:
            box.visible = False
            if button is not None:
                button.name = self.t("app.share")
            return
        self._segno = await load_segno()
        self._share_box = box
        box.object = self._share_html()
        box.visible = True
        if button is not None:
            button.name = self.t("app.share_hide")

    def _share_html(self):
        url, t = self.share_url(), self.t
        return (f"<div role='img' aria-label='{esc(t('app.share_qr', url=url))}' class='share-qr' "
                f"style='display:inline-block;background:#fff;line-height:0'>{qr_svg(self._segno, url)}</div>"
                f"<p>{esc(t('app.share_text'))}<br><code class='share-url' style='word-break:break-all'>"
                f"{esc(url)}</code></p>")

    def _sync_url(self, *_):
        """The page's address follows the settings (pn.state.location: the static page and panel serve),
        and so does the QR code while it is shown."""
        location = pn.state.location
        if location is not None:
            location.search = "?" + urlencode(self.link_query())
        if self._share_box is not None and self._share_box.visible:
            self._share_box.object = self._share_html()

    def view(self, name):
        """The view behind the tab ``name`` (built when asked for)."""
        t = self.t
        if name == "train":
            return pn.Column(TrainView(t, trainer=self.trainer), RunsView(t, runs=self.runs), sizing_mode="stretch_width")
        if name == "inspect":
            return InspectView(t, models=self.models)
        if name == "gradcheck":
            return GradientCheckView(t, checker=self.checker)
        if name == "draw":
            return pn.Column(DrawView(t, classifier=self.classifier),
                             ClassDrawingsView(t, show_train=lambda: setattr(self.tabs, "active", 0),
                                               drawings=self.drawings, classifier=self.classifier),
                             sizing_mode="stretch_width")
        if name == "inside":
            return InsideView(t, classifier=self.classifier)
        if name == "exercises":
            from .views.exercises import ExercisesView  # its editor and webnet.exercises: on first use

            return ExercisesView(t, show_train=lambda: setattr(self.tabs, "active", 0), session=self.session)
        return ModelView(t, store=self.store)

    def about(self):
        where = webnet.__file__.rsplit("/", 1)[0]
        t = self.t
        return t("app.about", python=sys.version.split()[0], platform=sys.platform, numpy=np.__version__,
                 webnet=webnet.__version__, where=where, n_train=t.number(N_TRAIN), n_test=t.number(N_TEST))

    def __panel__(self):
        # Only the first tab is built at start-up; each other one the first time it is shown. In the
        # static page that saves a good part of the start-up (every widget and plot becomes bokeh
        # models, built by Python in the worker and then by BokehJS). Each tab is a Column filled
        # in on first use (in the page this needs the document marked loaded: webnet_lab.worker).
        t = self.t
        holders = [pn.Column(pn.pane.HTML(f"<p style='color:#666'>{t('app.loading')}</p>", css_classes=["tab-loading"]),
                             sizing_mode="stretch_width", margin=(0, 8)) for _ in TABS]
        views = {}

        def show(index):
            name = TABS[index]
            if name not in views:
                views[name] = self.view(name)
                holders[index].objects = [views[name]]
            if name == "inspect":  # evaluates the model when shown, not at start-up
                views[name].show()

        first = self.start_tab or 0
        show(first)
        tabs = self.tabs = pn.Tabs(*zip((t(f"tab.{name}") for name in TABS), holders), dynamic=False, active=first)
        tabs.param.watch(lambda event: show(event.new), "active")
        # the address follows the experiment: a link to it restores it
        tabs.param.watch(self._sync_url, "active")
        self.trainer.param.watch(self._sync_url, [*self.trainer.ARCH_PARAMS[:-1], "learning_rate", "batch_size",
                                                  "epochs", "augment"])
        self.session.param.watch(self._sync_url, "exercise")
        copy_note = pn.pane.HTML("", css_classes=["copy-link-note"], margin=(0, 10))
        copy = pn.widgets.Button(name=t("app.copy_link"), button_type="default", width=150, sizing_mode="fixed",
                                 css_classes=["copy-link"])
        # in the page (the clipboard is the browser's); where it is refused, the link is shown to copy
        copy.js_on_click(args={"note": copy_note, "copied": t("app.copied"), "copy_this": t("app.copy_this")}, code="""
            const url = window.location.href
            const text = (s) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;")
            const say = (ok) => { note.text = `<p role="status">${text(ok ? copied : copy_this + " " + url)}</p>` }
            if (navigator.clipboard && window.isSecureContext) {
              navigator.clipboard.writeText(url).then(() => say(true), () => say(false))
            } else {
              say(false)
            }""")
        names = {code: t(f"app.language_{code}") for code in LANGUAGES}
        language = LanguageSwitch(current=t.lang, languages=names, label=t("app.language"),
                                  warning=t("app.language_warning"), width=240, height=48, sizing_mode="fixed",
                                  margin=(0, 10))
        share_box = pn.pane.HTML("", visible=False, css_classes=["share-box"], margin=(0, 10))
        share = pn.widgets.Button(name=t("app.share"), button_type="default", width=150, sizing_mode="fixed",
                                  css_classes=["share"])

        async def share_clicked(event):
            await self.share(share_box, share)
        share.on_click(share_clicked)
        header = pn.FlexBox(pn.pane.HTML(f"<h1 lang='{t.lang}'>{t('app.title')}</h1>", margin=(0, 10),
                                         styles={"flex": "1 1 300px"}), copy, share, language, align_items="center",
                            justify_content="space-between", sizing_mode="stretch_width")
        a11y = Accessibility(labels={"increase": t("a11y.increase"), "decrease": t("a11y.decrease"),
                                     "upload-model": t("model.upload_heading"),
                                     "upload-code": t("exercises.upload"), "upload-drawings": t("drawings.import"),
                                     "network-kind": t("train.network")}, closes={"share-box": "share"},
                              width=0, height=0, margin=0)
        # the landmarks (roles given by a11y.js from these classes): banner, main, contentinfo
        header.css_classes = ["landmark-banner"]
        intro = f"<p>{t('app.intro')}</p>"
        if self.link_problems:  # said once, at the top; the lab started with the defaults for these
            fixed = ", ".join(f"{name}={value}" for name, value in self.link_problems)
            intro += f"<p class='link-problems' role='status'>{esc(t('app.link_problems', settings=fixed))}</p>"
        main = pn.Column(pn.pane.HTML(intro, margin=(0, 10)), copy_note, share_box, ModelBar(t, models=self.models),
                         tabs, css_classes=["landmark-main"], sizing_mode="stretch_width")
        about = pn.pane.HTML(f"<p>{esc(self.about())}</p>", css_classes=["about", "landmark-contentinfo"],
                             styles={"color": "#555", "font-size": "14px"})
        return pn.Column(header, main, about, a11y, self.runs_store, self.drawings_store, max_width=1280)
