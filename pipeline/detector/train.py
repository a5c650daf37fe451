"""Training the help-request model: the shipped base model, a community's fine-tuned one, and their measurement.

Why written here rather than with scikit-learn: the trainer runs inside ``peerdesk detector retrain`` on an
organiser's machine, so it may only use what peerdesk already installs (numpy comes with pandas/pyarrow). Logistic
regression on a few thousand sparse binary features is a dozen lines of numpy: the sparse products are
``np.bincount`` over (row, column) index arrays, and plain gradient descent with Adam converges in a second.

Labelled rows look like ``tests/data/labelled_requests.jsonl``: ``{"text", "lang", "is_request", "reason"}``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.detector.model import Model, features
from pipeline.detector.rules import normalise, rule_evidence

__all__ = ["Example", "cross_validate", "fine_tune", "metrics", "train"]


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled post; ``weight`` lets a curator's decision count for more than one shipped example."""

    text: str
    lang: str | None
    is_request: bool
    weight: float = 1.0


def examples_from_rows(rows: Iterable[dict[str, object]]) -> list[Example]:
    return [Example(str(r["text"]), r.get("lang"), bool(r["is_request"])) for r in rows]  # type: ignore[arg-type]


class _Design:
    """The sparse count-over-sqrt(n) matrix of texts over a fixed vocabulary, as COO index arrays.

    A feature listed twice for one text (the same 4-gram in two words) is two entries; ``bincount`` adds them.
    """

    def __init__(self, grams: Sequence[list[str]], vocab: dict[str, int]) -> None:
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        for i, g in enumerate(grams):
            scale = 1.0 / math.sqrt(len(g)) if g else 0.0  # the same scaling as Model.logit
            for f in g:
                j = vocab.get(f)
                if j is not None:
                    rows.append(i)
                    cols.append(j)
                    vals.append(scale)
        self.n, self.d = len(grams), len(vocab)
        self.rows, self.cols, self.vals = np.array(rows, np.int64), np.array(cols, np.int64), np.array(vals)

    def dot(self, w: np.ndarray) -> np.ndarray:
        return np.bincount(self.rows, weights=self.vals * w[self.cols], minlength=self.n)

    def tdot(self, r: np.ndarray) -> np.ndarray:
        return np.bincount(self.cols, weights=self.vals * r[self.rows], minlength=self.d)


def _fit(design: _Design, y: np.ndarray, sw: np.ndarray, l2: float, *, w0: np.ndarray | None = None,
         b0: float = 0.0, offset: np.ndarray | None = None, scale: float = 1.0,
         epochs: int = 400, lr: float = 0.05) -> tuple[np.ndarray, float]:
    """Weighted logistic regression by Adam: minimise log-loss + l2/2 * |w - w0|^2.

    ``offset`` and ``scale`` let a fine-tune optimise the *combined* verdict (z = offset + scale * logit) while
    moving only the model's weights; ``w0`` is the prior the weights are pulled back to.
    """
    prior = np.zeros(design.d) if w0 is None else w0
    w, b = prior.copy(), b0
    off = np.zeros(design.n) if offset is None else offset
    mw, vw, mb, vb = np.zeros(design.d), np.zeros(design.d), 0.0, 0.0
    total = float(sw.sum())
    for t in range(1, epochs + 1):
        z = off + scale * (design.dot(w) + b)
        p = 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))
        r = sw * (p - y) * scale / total
        gw = design.tdot(r) + l2 * (w - prior)
        gb = float(r.sum())
        mw = 0.9 * mw + 0.1 * gw
        vw = 0.999 * vw + 0.001 * gw * gw
        mb = 0.9 * mb + 0.1 * gb
        vb = 0.999 * vb + 0.001 * gb * gb
        c1, c2 = 1 - 0.9**t, 1 - 0.999**t
        w -= lr * (mw / c1) / (np.sqrt(vw / c2) + 1e-8)
        b -= lr * (mb / c1) / (math.sqrt(vb / c2) + 1e-8)
    return w, b


def _fit_combine(margins: np.ndarray, logits: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Three stacking weights by Newton's method on (1, rules' margin, model logit)."""
    x = np.column_stack([np.ones_like(margins), np.clip(margins, -6, 6), np.clip(logits, -12, 12)])
    beta = np.zeros(3)
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-x @ beta))
        hess = x.T @ (x * (p * (1 - p))[:, None]) + 1e-3 * np.eye(3)
        beta -= np.linalg.solve(hess, x.T @ (p - y) + 1e-3 * beta)
    return float(beta[0]), float(beta[1]), float(beta[2])


def _folds(n: int, k: int, seed: int = 17) -> list[np.ndarray]:
    return np.array_split(np.random.default_rng(seed).permutation(n), k)


L2 = 1e-5
MIN_DF = 2


def _train_core(grams: list[list[str]], y: np.ndarray, l2: float) -> tuple[dict[str, float], float]:
    df = Counter(g for gs in grams for g in set(gs))
    vocab = {g: i for i, g in enumerate(sorted(g for g, c in df.items() if c >= MIN_DF))}
    w, b = _fit(_Design(grams, vocab), y, np.ones(len(y)), l2)
    names = list(vocab)
    return {names[i]: round(float(w[i]), 4) for i in np.flatnonzero(np.abs(w) >= 1e-3)}, float(b)


def _logits(weights: dict[str, float], bias: float, grams: list[list[str]]) -> np.ndarray:
    return np.array([bias + sum(weights.get(g, 0.0) for g in gs) / math.sqrt(len(gs)) if gs else bias
                     for gs in grams])


def train(examples: Sequence[Example], *, folds: int = 5, l2: float = L2, name: str = "base") -> Model:
    """The base model: n-gram weights on all examples, stacking weights on out-of-fold predictions."""
    evidence = [rule_evidence(e.text, e.lang) for e in examples]
    grams = [features(normalise(e.text), slugs) for e, (_, slugs) in zip(examples, evidence, strict=True)]
    y = np.array([float(e.is_request) for e in examples])
    margins = np.array([margin for margin, _ in evidence])
    oof = np.zeros(len(examples))
    for held in _folds(len(examples), folds):
        keep = np.setdiff1d(np.arange(len(examples)), held)
        w, b = _train_core([grams[i] for i in keep], y[keep], l2)
        oof[held] = _logits(w, b, [grams[i] for i in held])
    weights, bias = _train_core(grams, y, l2)
    return Model(weights=weights, bias=bias, combine=_fit_combine(margins, oof, y), name=name,
                 examples=len(examples))


def fine_tune(base: Model, examples: Sequence[Example], *, l2: float = 2e-3, name: str = "community") -> Model:
    """A community's model: the base model's weights moved just enough to agree with the curator's decisions.

    The loss is on the *combined* verdict (rules + model), since that is what the curator corrected; the prior
    pulls every weight back towards the base model, so a handful of decisions cannot unlearn the shipped data.
    New n-grams (words the base model never saw) get weights too: that is how "similar posts" are recognised.
    """
    if not examples:
        return base
    evidence = [rule_evidence(e.text, e.lang) for e in examples]
    grams = [features(normalise(e.text), slugs) for e, (_, slugs) in zip(examples, evidence, strict=True)]
    vocab_names = sorted(set(base.weights) | {g for gs in grams for g in gs})
    vocab = {g: i for i, g in enumerate(vocab_names)}
    w0 = np.array([base.weights.get(g, 0.0) for g in vocab_names])
    b0, b_rules, b_model = base.combine
    margins = np.array([margin for margin, _ in evidence])
    offset = b0 + b_rules * np.clip(margins, -6, 6)
    y = np.array([float(e.is_request) for e in examples])
    w, b = _fit(_Design(grams, vocab), y, np.array([e.weight for e in examples]), l2, w0=w0, b0=base.bias,
                offset=offset, scale=b_model, epochs=300, lr=0.05)
    changed = np.abs(w - w0) >= 1e-4
    weights = dict(base.weights)
    for i in np.flatnonzero(changed):
        weights[vocab_names[i]] = round(float(w[i]), 4)
    return Model(weights=weights, bias=float(b), combine=base.combine, threshold=base.threshold, name=name,
                 examples=base.examples + len(examples))


def cross_validate(examples: Sequence[Example], k: int = 5, *, trainer: Callable[..., Model] = train,
                   seed: int = 17) -> list[bool]:
    """Out-of-fold hybrid verdicts for every example (k-fold), for measuring without a separate held-out set."""
    from pipeline.detector.rules import classify  # here: classify takes a model, and train() is slow to import-time

    out = [False] * len(examples)
    for held in _folds(len(examples), k, seed):
        keep = set(range(len(examples))) - set(held.tolist())
        model = trainer([examples[i] for i in sorted(keep)])
        for i in held.tolist():
            out[i] = classify(examples[i].text, examples[i].lang, model=model).is_request
    return out


def metrics(truth: Sequence[bool], predicted: Sequence[bool]) -> dict[str, float]:
    """Precision, recall and F1 (0.0 where undefined), plus the counts they come from."""
    tp = sum(t and p for t, p in zip(truth, predicted, strict=True))
    fp = sum(p and not t for t, p in zip(truth, predicted, strict=True))
    fn = sum(t and not p for t, p in zip(truth, predicted, strict=True))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "n": len(truth), "tp": tp, "fp": fp, "fn": fn}


def main(argv: Sequence[str] | None = None) -> None:
    """Rebuild the shipped base model: ``python -m pipeline.detector.train [DATA.jsonl] [OUT.json]``."""
    import json
    import sys
    from pathlib import Path

    args = list(sys.argv[1:] if argv is None else argv)
    data = Path(args[0] if args else "tests/data/labelled_requests.jsonl")
    out = Path(args[1] if len(args) > 1 else Path(__file__).with_name("request_model.json"))
    with data.open(encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    model = train(examples_from_rows(rows))
    out.write_text(model.to_json() + "\n", encoding="utf-8")
    print(f"{out}: {len(model.weights)} weights from {len(rows)} examples, combine={model.combine}")


if __name__ == "__main__":
    main()
