"""Every string a user reads, one catalogue per language (``en.json``, ``ru.json`` beside this file).

State classes never hold text: they hold a ``Message`` (a catalogue key and its values) and the
views turn it into words with the session's ``Catalogue``, so wording is tested and translated
in one spot, and two sessions of ``panel serve`` can read two languages.
"""
from __future__ import annotations

import json
import re
import string
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

LANGUAGES = ("en", "ru")
DEFAULT = "en"
GROUP = {"en": ",", "ru": "\u00a0"}  # between a number's thousands: 12,345 and 12 345 (no-break space)
# English says "an" before a number that starts with a vowel sound: "an 8", "an 11", "an 18", "an 80"
# (the catalogue writes "a {label}"; the number is known only when the text is made)
AN_NUMBER = re.compile(r"\ba(?= (?:<b>)?(?:8\d?|11|18)(?!\d|[.,]\d))")
# what the page says before Python runs (the build fills them into worker.js, site/builder/page.py)
PAGE_KEYS = ("page.loading_python", "page.loading_packages", "page.packages_failed", "page.starting",
             "page.start_failed", "page.show_failed")


@dataclass(frozen=True)
class Message:
    """A catalogue key and the values its text is formatted with."""

    key: str
    values: dict = field(default_factory=dict)

    def __hash__(self):
        return hash((self.key, tuple(sorted(self.values.items(), key=lambda kv: kv[0]))))


def msg(key, **values):
    return Message(key, values)


@cache
def own_entries(lang):
    """The lab's own catalogue of ``lang`` (``en.json`` ...): {key: text}."""
    if lang not in LANGUAGES:
        raise ValueError(f"no catalogue for language {lang!r}; there are {LANGUAGES}")
    return json.loads(resources.files(__name__).joinpath(f"{lang}.json").read_text(encoding="utf-8"))


@cache
def entries(lang):
    """Everything the lab can say in ``lang``: its own catalogue and webnet's texts (the exercises,
    the checker's problems), which share no key."""
    from webnet.texts import entries as library

    own, lib = own_entries(lang), library(lang)
    clash = set(own) & set(lib)
    if clash:
        raise ValueError(f"keys in both the lab's and webnet's {lang} catalogues: {sorted(clash)}")
    return {**lib, **own}


def placeholders(text):
    """The names a catalogue entry is formatted with: "{n} epochs" -> {"n"} (for an entry with
    plural forms, the names of all its forms)."""
    texts = text.values() if isinstance(text, dict) else [text]
    return {name for t in texts for _, name, _, _ in string.Formatter().parse(t) if name}


def pick_language(*candidates):
    """The first of ``candidates`` (e.g. the URL's ?lang=, then the browser's languages) that has a
    catalogue, by its primary subtag ("ru-RU" -> "ru"); else English."""
    for candidate in candidates:
        for tag in str(candidate or "").replace(",", " ").split():
            lang = tag.split(";")[0].split("-")[0].strip().lower()
            if lang in LANGUAGES:
                return lang
    return DEFAULT


class Catalogue:
    """``t(key, **values)`` -> text in one language; ``t(message)`` for a ``Message``."""

    def __init__(self, lang=DEFAULT):
        self.lang = lang
        self._entries = entries(lang)

    def __call__(self, key, **values):
        if isinstance(key, Message):
            key, values = key.key, {**key.values, **values}
        try:
            text = self._entries[key]
        except KeyError:
            raise KeyError(f"no text {key!r} in the {self.lang} catalogue") from None
        if isinstance(text, dict):  # forms by number: {"one": "{n} epoch", "other": "{n} epochs"}
            text = text[plural_form(self.lang, values["n"])]
        values = {k: self(v) if isinstance(v, Message) else v for k, v in values.items()}  # nested messages
        if not values:
            return text
        text = text.format(**values)
        return AN_NUMBER.sub("an", text) if self.lang == "en" else text

    def number(self, n):
        """A whole number (``n`` rounded) as this language writes it: 12,345 or 12 345."""
        return f"{round(n):,}".replace(",", GROUP[self.lang])


def plural_form(lang, n):
    """The CLDR plural category of the whole number ``n``: English one / other; Russian one / few /
    many ("1 эпоха", "2 эпохи", "5 эпох")."""
    n = abs(int(n))
    if lang == "ru":
        if n % 10 == 1 and n % 100 != 11:
            return "one"
        if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
            return "few"
        return "many"
    return "one" if n == 1 else "other"
