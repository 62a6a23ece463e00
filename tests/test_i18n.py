"""Every string a user reads comes from one catalogue per language (the lab's, site/webnet_lab/i18n,
and webnet's, webnet/texts): both languages have every key with the same placeholders, every key
the code uses exists, none is left unused, and a whole lab rendered in a marker language shows no
text that did not come from the catalogue."""
import html
import re
import string
from pathlib import Path

import panel as pn
import pytest

from webnet import texts
from webnet.exercises import BUGS, EXERCISES
from webnet_lab import i18n
from webnet_lab.state import runs

ROOT = Path(__file__).resolve().parent.parent
PLURALS = {"en": {"one", "other"}, "ru": {"one", "few", "many"}}


def names(entry):
    forms = entry.values() if isinstance(entry, dict) else [entry]
    return {p for form in forms for _, p, _, _ in string.Formatter().parse(form) if p}


@pytest.mark.parametrize("catalogue", [i18n.own_entries, texts.entries], ids=["lab", "webnet"])
def test_both_languages_have_every_key_with_the_same_placeholders(catalogue):
    en, ru = catalogue("en"), catalogue("ru")
    assert set(en) == set(ru), (set(en) ^ set(ru))
    for key in en:
        assert names(en[key]) == names(ru[key]), key
        for lang, entry in (("en", en[key]), ("ru", ru[key])):
            if isinstance(entry, dict):
                assert set(entry) == PLURALS[lang], (lang, key)


def test_english_says_an_before_an_eight():
    t = i18n.Catalogue("en")
    assert t("drawings.keep_as", label=8) == "Keep as an 8"
    assert t("drawings.keep_as", label=7) == "Keep as a 7"
    assert t("draw.with_label", answer="", label=8).endswith("The test digit is an 8.")
    assert "maybe an <b>8</b>" in t("draw.maybe", digit=8, pct=60, other=3, other_pct=20)
    assert "maybe a <b>3</b>" in t("draw.maybe", digit=8, pct=60, other=3, other_pct=20)
    assert i18n.Catalogue("ru")("drawings.keep_as", label=8) == i18n.own_entries("ru")["drawings.keep_as"].format(label=8)


def test_numbers_are_written_as_each_language_writes_them():
    """English groups thousands with a comma, Russian with a (no-break) space: "2,000" in a Russian
    sentence reads as two."""
    en, ru = i18n.Catalogue("en"), i18n.Catalogue("ru")
    assert en.number(12345.4) == "12,345" and en.number(999) == "999"
    assert ru.number(12345) == "12\u00a0345" and ru.number(1568) == "1\u00a0568" and ru.number(999) == "999"


def test_every_chart_title_fits_a_phone():
    """bokeh draws a chart's title on one line and cuts what does not fit: on a phone a chart is about
    330 px wide, some 42 characters of its 13 px title."""
    views = Path(i18n.__file__).parent.parent / "views"
    keys = {k for path in views.glob("*.py") for k in re.findall(r"""\bfigure\(t\("([\w.]+)"\)""", path.read_text())}
    assert {"inspect.confusion_title", "train.loss_title", "runs.loss_title", "draw.probabilities"} <= keys
    for lang in i18n.LANGUAGES:
        for key in keys:
            assert len(i18n.own_entries(lang)[key]) <= 42, (lang, key)


def test_the_catalogues_share_no_key():
    assert not set(i18n.own_entries("en")) & set(texts.entries("en"))


def code_keys():
    """Keys the code names literally, and the families it builds keys from."""
    sources = [p.read_text() for p in (ROOT / "site" / "webnet_lab").rglob("*.py")]
    sources += [p.read_text() for p in (ROOT / "webnet").rglob("*.py")]
    literal = {k for s in sources for k in re.findall(r"""(?:\bt|\bmsg|\btext|LayerProblem\([^)]*?|CodeProblem)\(\s*["']([a-z0-9_]+(?:\.[a-z0-9_]+)+)["']""", s)}
    literal |= {k for s in sources for k in re.findall(r'"((?:problem|explain|model|train|draw|exercises|upload|inspect|inside|app|a11y|gradcheck|verdict|page|runs|drawings)\.[a-z0-9_.]+)"', s)}
    built = {f"tab.{n}" for n in ("train", "inspect", "gradcheck", "exercises", "draw", "inside", "model")}
    built |= {f"train.state_{p}" for p in ("ready", "training", "evaluating", "paused", "finished", "stopped")}
    built |= {f"train.announce_{p}" for p in ("training", "paused", "finished", "stopped", "epoch")}
    built |= {f"model.use_{s}" for s in ("pretrained", "trained", "uploaded")}
    built |= {f"draw.unsure_{k}" for k in ("far", "line", "small")}
    built |= {f"verdict.{v}" for v in ("excellent", "acceptable", "suspicious", "wrong", "error")}
    built |= {f"explain.grad.{v}" for v in ("excellent", "acceptable", "suspicious", "wrong", "wrong_sampled")}
    built |= {f"app.language_{code}" for code in i18n.LANGUAGES}
    built |= {f"gradcheck.col_{c}" for c in ("layer", "quantity", "error", "checked", "verdict")}
    built |= {f"exercises.col_{c}" for c in ("quantity", "verdict", "error", "explanation")}
    built |= {f"model.name.{k}" for k in ("pretrained", "uploaded", "trained", "trained_untested", "trained_yours",
                                          "trained_yours_untested")}
    built |= {f"runs.setting_{n}" for n in runs.SETTINGS} | {f"runs.outcome_{o}" for o in runs.OUTCOMES}
    built |= {f"runs.col_{c}" for c in ("run", "settings", "outcome", "epochs", "test_acc", "seconds")}
    for name, ex in EXERCISES.items():
        built |= {f"exercise.{name}.title", f"exercise.{name}.statement"}
        built |= {f"exercise.{name}.hint{i}" for i in range(1, ex.hints + 1)}
    for name in BUGS:
        built |= {f"bug.{name}.title", f"bug.{name}.why"}
    return literal | built


def test_every_key_the_code_uses_exists_and_none_is_unused():
    catalogue = {**i18n.own_entries("en"), **texts.entries("en")}
    used = code_keys()
    missing = sorted(k for k in used if k not in catalogue and not k.endswith(("_", "."))
                     and not re.search(r"\.(json|py|js|css|npz|whl)$", k))  # file names, and stems of built keys
    assert not missing, missing
    unused = sorted(k for k in catalogue if k not in used)
    assert not unused, unused


MARK = re.compile(r"⟪[^⟪⟫]*⟫")  # an innermost marker (messages nest: a model's name inside a sentence)
DATA = re.compile(r"^[\s\d.,:;%·()/×x+\-–—=|<>\[\]'\"`…?!]*$")  # numbers and punctuation: data, not words


def marker_entries(lang):
    """A language in which every text is its key between markers, with its placeholders kept."""
    def mark(key, text):
        return "⟪" + key + "".join(f"|{{{p}}}" for p in sorted(names(text))) + "⟫"
    return {k: ({form: mark(k, v) for form in v} if isinstance(v, dict) else mark(k, v))
            for k, v in {**i18n.own_entries("en"), **texts.entries("en")}.items()}


def visible_texts(obj):
    """The strings a user sees of a Panel object: panes' HTML as text, widgets' names and options,
    buttons' labels, components' text parameters, plots' titles, axis and legend labels."""
    out = []
    for item in obj.select():
        if isinstance(item, pn.pane.HTML) or isinstance(item, pn.pane.Markdown):
            value = item.object
            if isinstance(value, str):
                no_code = re.sub(r"<code>.*?</code>|<style.*?</style>|<pre.*?</pre>", " ", value, flags=re.S)
                no_attrs = re.sub(r"(src|style|class)='[^']*'", "", no_code)
                out += [html.unescape(a) for a in re.findall(r"alt='([^']*)'", no_attrs)]
                out.append(html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"alt='[^']*'", "", no_attrs))))
        elif isinstance(item, pn.pane.Bokeh) and item.object is not None:
            fig = item.object
            out.append(fig.title.text if fig.title else "")
            out += [ax.axis_label or "" for ax in (*fig.xaxis, *fig.yaxis)]
            out += [li.label.get("value", "") for leg in fig.legend for li in leg.items if isinstance(li.label, dict)]
        elif isinstance(item, pn.widgets.Widget):
            if isinstance(item, (pn.widgets.Button, pn.widgets.FileDownload)):
                out.append(item.label if isinstance(item, pn.widgets.FileDownload) else item.name)
            elif isinstance(item, pn.widgets.Select):
                out.append(item.name)
                out += [k for k in (item.options if isinstance(item.options, dict) else {})]
            elif not isinstance(item, (pn.widgets.FileInput, pn.widgets.Progress)):
                out.append(item.name)
        elif isinstance(item, pn.custom.JSComponent):
            for p in ("label", "help", "clear_label", "warning"):
                if p in item.param and isinstance(getattr(item, p), str):
                    out.append(getattr(item, p))
            if "labels" in item.param:
                out += list(item.labels.values())
    return out


def test_every_visible_string_comes_from_the_catalogue(monkeypatch):
    """Build every tab in a marker language, with something shown in each (a trained network, a
    drawing, a check, an upload): whatever text is not a catalogue marker must be data (numbers)."""
    import numpy as np

    from webnet_lab.app import App

    monkeypatch.setattr(i18n, "entries", marker_entries)
    app = App(lang="en")
    layout = app.__panel__()
    tabs = app.tabs
    for i in range(len(tabs)):
        tabs.active = i
    t = app.trainer
    t.param.update(train_size=1000, epochs=1)
    t.start()
    while t.busy:
        t.chunk()
    pad = np.zeros((280, 280), np.uint8)
    pad[30:250, 130:152] = 255
    app.classifier.classify_image(pad)
    app.checker.run()
    app.session.check()
    app.store.upload(b"", "x.npz")
    fragments = set()
    for s in visible_texts(layout):
        while MARK.search(s):
            s = MARK.sub("\x00", s)
        fragments |= {f.strip() for f in re.split(r"\x00|\s{2,}", s)}
    not_from_catalogue = sorted(f for f in fragments if f and not DATA.match(f))
    # what may appear as it is: names of layers and arrays from code, file names the user gave,
    # architecture strings, digit labels, the language names as they call themselves
    allowed = re.compile(r"^(MLP|CNN|LeNet|x\.npz|English|Русский|(\d+ )?\w+\(.*\)|(\d+ )?Reshape\(.*|grad_x|forward|W|b|K|"
                         r"params|network|\d+(-\d+)+|\d\.\d+e[+-]\d+|\d+ (of|из) [\d,]+)$")
    assert [s for s in not_from_catalogue if not allowed.match(s)] == []
