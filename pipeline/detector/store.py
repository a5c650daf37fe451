"""The community's own help-request model: learned from the curator's decisions, kept in the database.

Why: a curator who marks a post "not a request" (or "request") fixes that post for good through the ``curation``
table, but the next advert worded the same way would be misread again. Retraining turns each decision into a
training example, so the correction carries over to similar posts. The shipped base model stays the prior
(``detector_train.fine_tune``): a handful of decisions adjust it, they do not replace it.

When: ``prepare`` runs at the start of each collect cycle and retrains only when a decision is newer than the
stored model; ``peerdesk detector retrain`` does it on demand and can re-score the stored posts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import duckdb
import pyarrow as pa

from pipeline.core.store import registered, transaction
from pipeline.core.views import top_level
from pipeline.detector.model import Model, base_model, load_json
from pipeline.detector.rules import classify, use_model
from pipeline.detector.train import Example, fine_tune

log = logging.getLogger(__name__)

NAME = "community"
# One decision weighs as much as this many shipped examples: the curator has seen the post and the community.
DECISION_WEIGHT = 3.0


@dataclass(frozen=True, slots=True)
class RetrainResult:
    decisions: int  # curated posts learned from
    agreed_before: int  # of them, how many the previous model already classified as the curator did
    agreed_after: int
    rescored: int = 0  # stored posts whose verdict was recomputed
    changed: int = 0  # of them, how many changed side


def curated_examples(con: duckdb.DuckDBPyConnection) -> list[Example]:
    """Every post a curator said is (or is not) a request and whose text we still hold, oldest decision first."""
    rows = con.execute("""
        SELECT p.text, p.lang, c.request_override
        FROM curation c JOIN post_store p ON p.uri = c.uri
        WHERE c.request_override IS NOT NULL AND p.deleted_at IS NULL AND p.text IS NOT NULL AND p.text <> ''
        ORDER BY c.decided_at, c.uri
    """).fetchall()
    return [Example(text, lang, bool(decision), DECISION_WEIGHT) for text, lang, decision in rows]


def load(con: duckdb.DuckDBPyConnection) -> Model | None:
    """The stored community model, or None (none trained yet, or one this version cannot read)."""
    row = con.execute("SELECT model FROM detector_models WHERE name = ?", [NAME]).fetchall()
    if not row:
        return None
    try:
        return load_json(row[0][0])
    except (ValueError, KeyError, TypeError):
        return None  # an unreadable model falls back to the shipped one rather than stopping collection


def retrain(con: duckdb.DuckDBPyConnection, now: datetime, *, rescore: bool = False) -> RetrainResult:
    """Fine-tune the base model on every curator decision, store it, install it for this process."""
    examples = curated_examples(con)
    before = load(con) or base_model()
    model = fine_tune(base_model(), examples, name=NAME)
    result = RetrainResult(len(examples), _agreeing(before, examples), _agreeing(model, examples))
    with transaction(con):
        con.execute("INSERT OR REPLACE INTO detector_models (name, trained_at, decisions, model) VALUES (?, ?, ?, ?)",
                    [NAME, now, len(examples), model.to_json()])
    use_model(model)
    if rescore:
        scored, changed = rescore_posts(con, model)
        result = RetrainResult(result.decisions, result.agreed_before, result.agreed_after, scored, changed)
    return result


def prepare(con: duckdb.DuckDBPyConnection, now: datetime) -> Model:
    """Before a cycle classifies anything: retrain if the curator decided something since, then install."""
    stale = con.execute("""
        SELECT (SELECT max(decided_at) FROM curation WHERE request_override IS NOT NULL)
               > coalesce((SELECT trained_at FROM detector_models WHERE name = ?), '-infinity'::TIMESTAMPTZ)
    """, [NAME]).fetchall()[0][0]
    if stale:
        try:
            retrain(con, now)
        except (ValueError, FloatingPointError, MemoryError) as exc:  # collection must go on: keep the last model
            log.warning("detector: could not learn from the curator's decisions (%s); keeping the last model", exc)
    model = load(con)
    use_model(model)
    return model or base_model()


def rescore_posts(con: duckdb.DuckDBPyConnection, model: Model) -> tuple[int, int]:
    """Re-classify every stored top-level post with ``model``; curator overrides still win in the views."""
    rows = con.execute(f"""
        SELECT uri, text, lang, is_request FROM post_store
        WHERE deleted_at IS NULL AND {top_level()} AND text IS NOT NULL
    """).fetchall()
    verdicts = [classify(text, lang, model=model) for _, text, lang, _ in rows]
    changed = sum(bool(old) != v.is_request for (_, _, _, old), v in zip(rows, verdicts, strict=True))
    table = pa.table({"uri": [r[0] for r in rows], "is_request": [v.is_request for v in verdicts],
                      "request_reasons": pa.array([list(v.labels()) for v in verdicts], pa.list_(pa.string()))})
    with transaction(con), registered(con, "rescored", table):
        con.execute("""
            UPDATE post_store SET is_request = r.is_request, request_reasons = r.request_reasons
            FROM rescored r WHERE post_store.uri = r.uri
        """)
    return len(rows), changed


def _agreeing(model: Model, examples: list[Example]) -> int:
    return sum(classify(e.text, e.lang, model=model).is_request == e.is_request for e in examples)
