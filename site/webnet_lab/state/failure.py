"""A failed run (webnet.monitor's diagnosis): stopped and explained, smaller learning rates tried
from the same starting weights until one is shown to work, and the best weights seen kept if
they were better than guessing. One unit of work per yield, as Trainer._units."""
from __future__ import annotations

from webnet import monitor

from ..i18n import msg
from .data import digits

PROBE_BATCHES = 30  # batches each smaller learning rate is tried for, after a failed run


def failed_run(trainer, diagnosis):
    """The generator of a failed run's units of work; ``trainer``: the Trainer it stops."""
    trainer.param.update(running=False, phase="stopped")
    lr = trainer.learning_rate
    if diagnosis.kind == "diverged":
        reason = msg("train.failed_diverged", step=trainer.steps, loss=f"{diagnosis.loss:.3g}", lr=f"{lr:g}")
    elif diagnosis.kind == "dead":
        reason = msg("train.failed_dead", when=_when(diagnosis), acc=f"{diagnosis.accuracy:.3f}",
                     dead=round(100 * diagnosis.dead), lr=f"{lr:g}")
    else:
        reason = msg("train.failed_chance", when=_when(diagnosis), loss=f"{diagnosis.loss:.2f}",
                     acc=f"{diagnosis.accuracy:.3f}", lr=f"{lr:g}")
    trainer.alert = reason
    yield "stopped"
    rates = [r for r in trainer.param.learning_rate.objects if r < lr][-4:]
    d = digits()
    results = []
    for rate in reversed(rates):  # each rate tried on its own: a unit of work each
        results += monitor.probe_learning_rates(trainer._fresh_net, d.X_train[:trainer.train_size],
                                                d.y_train[:trainer.train_size], [rate], PROBE_BATCHES,
                                                trainer.batch_size, rng=trainer.seed)
        yield "probe"
    rate = monitor.working_rate(results)
    if rate is None:
        advice = msg("train.no_suggestion", rates=", ".join(f"{r:g}" for r in rates), batches=PROBE_BATCHES)
    else:
        first, last = next((f, la) for r, f, la in results if r == rate)
        advice = msg("train.suggest", rate=f"{rate:g}", first=f"{first:.2f}", last=f"{last:.2f}",
                     batches=PROBE_BATCHES)
    best = trainer.monitor.best
    if best is not None and best[0] >= 1.5 * trainer.monitor.chance_accuracy:
        acc, epoch = trainer.monitor.restore_best(trainer.net)
        kept = msg("train.kept_best", epoch=epoch, acc=f"{acc:.4f}")
        trainer.net_version += 1
    else:
        kept = msg("train.kept_none")
        trainer.failed += 1
    trainer.param.update(alert=msg("train.failed", reason=reason, advice=advice, kept=kept), suggestion=rate)

def _when(diagnosis):
    return msg("train.when_epoch", epoch=diagnosis.epoch)
