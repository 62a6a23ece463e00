"""The App: the lab's state objects and the tabs over them, each tab built when first shown."""
from __future__ import annotations

import sys

import numpy as np
import panel as pn

import webnet

# Every custom component's class must exist before the document is first sent to the page: bokeh
# sends the definitions of data models only then, and a tab built later may use them. Their
# libraries load when an instance is made (the editor's: when the Exercises tab is first shown).
from .components import code_editor, drawing_pad  # noqa: F401
from .i18n import Catalogue
from .state.checker import GradientChecker
from .state.classifier import DrawingClassifier
from .state.data import N_TEST, N_TRAIN
from .state.exercise import ExerciseSession
from .state.models import Models
from .state.store import ModelStore
from .state.trainer import Trainer
from .views.common import esc
from .views.draw import DrawView
from .views.gradcheck import GradientCheckView
from .views.inspect import InspectView
from .views.model import ModelBar, ModelView
from .views.train import TrainView

TABS = ("train", "inspect", "gradcheck", "exercises", "draw", "model")


class App(pn.viewable.Viewer):
    """The whole lab: state objects, and the tabs over them in one language."""

    def __init__(self, lang="en", **params):
        super().__init__(**params)
        self.t = Catalogue(lang)
        self.trainer = Trainer()
        self.models = Models(self.trainer)
        self.checker = GradientChecker(self.models)
        self.classifier = DrawingClassifier(self.models)
        self.store = ModelStore(self.models)
        self.session = ExerciseSession(self.trainer)
        self.tabs = None

    def view(self, name):
        """The view behind the tab ``name`` (built when asked for)."""
        t = self.t
        if name == "train":
            return TrainView(t, trainer=self.trainer)
        if name == "inspect":
            return InspectView(t, models=self.models)
        if name == "gradcheck":
            return GradientCheckView(t, checker=self.checker)
        if name == "draw":
            return DrawView(t, classifier=self.classifier)
        if name == "exercises":
            from .views.exercises import ExercisesView  # its editor and webnet.exercises: on first use

            return ExercisesView(t, show_train=lambda: setattr(self.tabs, "active", 0), session=self.session)
        return ModelView(t, store=self.store)

    def about(self):
        where = webnet.__file__.rsplit("/", 1)[0]
        return self.t("app.about", python=sys.version.split()[0], platform=sys.platform, numpy=np.__version__,
                      webnet=webnet.__version__, where=where, n_train=f"{N_TRAIN:,}", n_test=f"{N_TEST:,}")

    def __panel__(self):
        # Only the first tab is built at start-up; each other one the first time it is shown. In the
        # static page that saves a good part of the start-up (every widget and plot becomes bokeh
        # models, built by Python in the worker and then by BokehJS). Each tab is a Column filled
        # in on first use (in the page this needs the document marked loaded: webnet_lab.worker).
        t = self.t
        holders = [pn.Column(pn.pane.HTML(f"<p style='color:#666'>{t('app.loading')}</p>", css_classes=["tab-loading"]),
                             sizing_mode="stretch_width") for _ in TABS]
        views = {}

        def show(index):
            name = TABS[index]
            if name not in views:
                views[name] = self.view(name)
                holders[index].objects = [views[name]]
            if name == "inspect":  # evaluates the model when shown, not at start-up
                views[name].show()

        show(0)
        tabs = self.tabs = pn.Tabs(*zip((t(f"tab.{name}") for name in TABS), holders), dynamic=False)
        tabs.param.watch(lambda event: show(event.new), "active")
        return pn.Column(
            pn.pane.HTML(f"<h1>{t('app.title')}</h1>", margin=(0, 10)),
            pn.pane.HTML(f"<p>{t('app.intro')}</p>", margin=(0, 10)),
            ModelBar(t, models=self.models),
            tabs,
            pn.pane.HTML(f"<p>{esc(self.about())}</p>", css_classes=["about"],
                         styles={"color": "#666", "font-size": "12px"}),
            max_width=1280,
        )
