"""webnet lab: train a small network on MNIST digits, watch it learn, inspect it, check its
gradients, and draw digits for it to classify.

The lab itself is the package webnet_lab beside this file (installed in .venv by build.py, and
shipped to the static page as a wheel). This file runs it the same way under
``panel serve site/app.py`` and in the page's web worker.
"""
import sys

from webnet_lab import pandas_stand_in

pandas_stand_in.install_if_missing()  # before panel and bokeh are imported: the page has no pandas

if sys.platform != "emscripten":  # under panel serve: changes reach the page in order (webnet_lab.server)
    from webnet_lab.server import keep_messages_in_order

    keep_messages_in_order()

import panel as pn  # noqa: E402

from webnet_lab.app import App  # noqa: E402

# apply_signatures: Panel would write a signature on every Panel class's __init__ for editors' tab
# completion, a third of pn.extension()'s time in the page, and no use to the lab
pn.extension(sizing_mode="stretch_width", apply_signatures=False)
App().servable(title="webnet lab")
