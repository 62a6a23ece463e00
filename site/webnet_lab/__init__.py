"""The webnet lab: a Panel app over the webnet library, the same code under ``panel serve`` and in
the static page (Pyodide in a web worker).

- ``state/``: what the lab knows and does, in ``param.Parameterized`` classes with no widgets
  (testable without a browser);
- ``views/``: one thin view per tab over that state;
- ``components/``: custom widgets, with their JavaScript and CSS as real files;
- ``i18n/``: every string a user reads, one catalogue per language;
- ``app.py``: the App that composes them; ``worker.py``: the glue to the page's web worker.
"""
__version__ = "0.1.0"
