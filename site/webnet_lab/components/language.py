"""LanguageSwitch: English or Russian; the page reloads in the chosen one (language.js)."""
from __future__ import annotations

import param
from panel.custom import JSComponent


class LanguageSwitch(JSComponent):
    current = param.String(default="en")
    languages = param.Dict(default={"en": "English", "ru": "Русский"})
    label = param.String(default="Language")
    warning = param.String(default="", doc="said before switching, when something would be lost ('' for nothing)")

    _esm = "language.js"
    _stylesheets = ["language.css"]
