"""The experiment in the page's URL: every setting of the Train tab, the open tab, the language and
the chosen exercise, read from the query when the lab starts and written back to it as they change.
A link carries settings only, never a student's code or drawings.

    ?arch=lenet&lr=0.03&batch=32&epochs=5&n=10000&seed=7&augment=1&tab=draw&exercise=relu&lang=ru

A value that is not valid (not a number, out of range, not one of the choices) is left at its
default and named in ``problems``: the lab says so on the page, and never fails because of a link.
"""
from __future__ import annotations

ARCHS = {"mlp": "MLP", "cnn": "CNN", "lenet": "LeNet"}
TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
# query name -> the trainer's parameter
TRAINER = {"arch": "model_kind", "hidden": "hidden", "hidden2": "hidden2", "lr": "learning_rate",
           "batch": "batch_size", "epochs": "epochs", "n": "train_size", "seed": "seed", "augment": "augment"}
ORDER = ("arch", "hidden", "hidden2", "lr", "batch", "epochs", "n", "seed", "augment", "exercise", "tab", "lang")


def _value(trainer, name, text):
    """The trainer's value for query ``name`` = ``text``; raises ValueError if it is not one."""
    p = trainer.param[TRAINER[name]]
    if name == "arch":
        if text.lower() not in ARCHS:
            raise ValueError
        return ARCHS[text.lower()]
    if name == "augment":
        if text.lower() not in TRUE + FALSE:
            raise ValueError
        return text.lower() in TRUE
    number = float(text)
    if hasattr(p, "objects") and p.objects:  # a choice among numbers (learning rate, batch size)
        match = [o for o in p.objects if o == number]
        if not match:
            raise ValueError
        return match[0]
    if not number.is_integer():
        raise ValueError
    value = int(number)
    lo, hi = p.bounds
    step = getattr(p, "step", 1) or 1
    if not lo <= value <= hi or (step > 1 and (value - lo) % step):
        raise ValueError
    return value


def read(query, trainer, tabs, exercises):
    """Settings from ``query`` {name: text}: returns (trainer values {param: value}, the tab's
    index or None, the exercise or None, problems [(name, text)])."""
    values, tab, exercise, problems = {}, None, None, []
    for name, text in query.items():
        try:
            if name in TRAINER:
                values[TRAINER[name]] = _value(trainer, name, text)
            elif name == "tab":
                if text not in tabs:
                    raise ValueError
                tab = tabs.index(text)
            elif name == "exercise":
                if text not in exercises:
                    raise ValueError
                exercise = text
        except ValueError:
            problems.append((name, text))
    if "hidden2" in query and ("hidden2", query["hidden2"]) not in problems:
        values["second_layer"] = True
    return values, tab, exercise, problems


def settings(trainer):
    """The Train tab's settings {name: text}, named as in a link (in a fixed order)."""
    t = trainer
    query = {"arch": {v: k for k, v in ARCHS.items()}[t.model_kind]}
    if t.model_kind == "MLP":
        query["hidden"] = str(t.hidden)
        if t.second_layer:
            query["hidden2"] = str(t.hidden2)
    query.update(lr=f"{t.learning_rate:g}", batch=str(t.batch_size), epochs=str(t.epochs), n=str(t.train_size),
                 seed=str(t.seed), augment="1" if t.augment else "0")
    return query


def write(trainer, tab, exercise, lang):
    """The query {name: text} that restores the current settings (in a fixed order)."""
    query = dict(settings(trainer), exercise=exercise, tab=tab, lang=lang)
    return {k: query[k] for k in ORDER if query.get(k) is not None}
