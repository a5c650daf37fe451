"""``peerdesk detector``: the help-request detector as the organiser sees it: check a text, retrain, evaluate.

Each command body is a few lines calling :mod:`pipeline.detector.store` and :mod:`pipeline.detector.rules`.
This module does not import :mod:`pipeline.cli.commands` (which registers this group).
"""

from __future__ import annotations

import click

from pipeline.cli.common import handle_errors, settings_of
from pipeline.cli.options import format_option
from pipeline.core import store
from pipeline.detector import store as detector_store
from pipeline.detector.model import base_model
from pipeline.detector.rules import classify, explain
from pipeline.detector.train import metrics
from pipeline.output.formats import render

_handle_errors = handle_errors()


@click.group()
def detector() -> None:
    """The help-request detector: rules plus a model that learns from the curator's decisions."""


@detector.command()
@click.argument("text")
@click.option("--lang", default=None, help="The post's language tag, a hint only (e.g. nl).")
@click.option("--base", is_flag=True, help="Use the shipped model, not the community's.")
@format_option()
@click.pass_context
@_handle_errors
def check(ctx: click.Context, text: str, lang: str | None, base: bool, fmt: str) -> None:
    """Classify one text and say why, as ingest would."""
    model = None
    if not base:
        settings = settings_of(ctx)
        if settings.db_path.exists():
            with store.reading(settings.db_path) as con:
                model = detector_store.load(con)
    verdict = classify(text, lang, model=model or base_model())
    render([{"is_request": verdict.is_request, "model": (model or base_model()).name,
             "why": ", ".join(explain(label) for label in verdict.labels()), "reasons": list(verdict.labels())}],
           fmt)


@detector.command()
@click.option("--rescore/--no-rescore", default=False,
              help="Also re-classify the stored posts with the new model (curator decisions still win).")
@click.pass_context
@_handle_errors
def retrain(ctx: click.Context, rescore: bool) -> None:
    """Learn from every curator decision now (a collect cycle also does this when decisions changed)."""
    with store.writing(settings_of(ctx).db_path) as con:
        result = detector_store.retrain(con, store.now_utc(), rescore=rescore)
    line = (f"community model trained on {result.decisions} curator decisions: agrees with "
            f"{result.agreed_after} of them (the previous model: {result.agreed_before})")
    if rescore:
        line += f"; re-scored {result.rescored} stored posts, {result.changed} changed side"
    click.echo(line)


@detector.command()
@format_option()
@click.pass_context
@_handle_errors
def evaluate(ctx: click.Context, fmt: str) -> None:
    """Precision, recall and F1 of the shipped and the community model on the curator's decisions."""
    with store.reading(settings_of(ctx).db_path) as con:
        examples = detector_store.curated_examples(con)
        community = detector_store.load(con)
    truth = [e.is_request for e in examples]
    rows = []
    for name, model in (("shipped", base_model()), ("community", community)):
        if model is None:
            continue
        m = metrics(truth, [classify(e.text, e.lang, model=model).is_request for e in examples])
        rows.append({"model": name, "decisions": m["n"], "precision": round(m["precision"], 3),
                     "recall": round(m["recall"], 3), "f1": round(m["f1"], 3)})
    render(rows, fmt)
