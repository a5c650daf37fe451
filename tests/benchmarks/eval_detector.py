"""Measure the help-request detector: ``python -m tests.benchmarks.eval_detector [--folds K] [--rules-only]``.

Prints precision, recall and F1, overall and per language, for

* the held-out set (``tests/data/labelled_heldout.jsonl``), never used in training or tuning, scored with the
  shipped model (``pipeline/detector/request_model.json``), and the rules alone beside it;
* k-fold cross-validation over the training set (``tests/data/labelled_requests.jsonl``): a model trained on
  k-1 folds judges the k-th, so every training post is judged by a model that never saw it.

The rules were hand-tuned on the first 376 training posts, so cross-validation flatters them there; the held-out
figures are the honest ones.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from pipeline.detector.model import Model, base_model
from pipeline.detector.rules import classify, rule_margin
from pipeline.detector.train import Example, cross_validate, examples_from_rows, metrics

DATA = Path(__file__).resolve().parents[1] / "data"
TRAIN = DATA / "labelled_requests.jsonl"
HELDOUT = DATA / "labelled_heldout.jsonl"


def load(path: Path) -> list[Example]:
    with path.open(encoding="utf-8") as fh:
        return examples_from_rows(json.loads(line) for line in fh if line.strip())


def rules_only(examples: Sequence[Example]) -> list[bool]:
    return [rule_margin(e.text, e.lang) > 0 for e in examples]


def hybrid(examples: Sequence[Example], model: Model | None = None) -> list[bool]:
    return [classify(e.text, e.lang, model=model or base_model()).is_request for e in examples]


def report(title: str, examples: Sequence[Example], predicted: Sequence[bool]) -> dict[str, float]:
    """Print one block: overall, then one line per language (most posts first)."""
    overall = metrics([e.is_request for e in examples], predicted)
    print(f"{title}")
    print(f"  {'all':<6} n={overall['n']:<4} precision={overall['precision']:.3f} recall={overall['recall']:.3f} "
          f"f1={overall['f1']:.3f}")
    by_lang: dict[str, list[int]] = defaultdict(list)
    for i, e in enumerate(examples):
        by_lang[e.lang or "?"].append(i)
    for lang, idx in sorted(by_lang.items(), key=lambda kv: -len(kv[1])):
        m = metrics([examples[i].is_request for i in idx], [predicted[i] for i in idx])
        print(f"  {lang:<6} n={m['n']:<4} precision={m['precision']:.3f} recall={m['recall']:.3f} f1={m['f1']:.3f}")
    return overall


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folds", type=int, default=5, help="k for k-fold cross-validation (0 to skip)")
    args = parser.parse_args(argv)
    held, train = load(HELDOUT), load(TRAIN)
    report(f"held-out ({HELDOUT.name}), hybrid", held, hybrid(held))
    report(f"held-out ({HELDOUT.name}), rules only", held, rules_only(held))
    if args.folds:
        report(f"{args.folds}-fold cross-validation ({TRAIN.name}), hybrid", train, cross_validate(train, args.folds))
        report(f"training set ({TRAIN.name}), rules only", train, rules_only(train))


if __name__ == "__main__":
    main()
