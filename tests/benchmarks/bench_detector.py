"""How long the help-request detector takes per post: today's rules alone vs the hybrid (rules + model).

Run: .venv/bin/python -m tests.benchmarks.bench_detector [--rounds N]

It classifies every labelled post (training and held-out sets, ~1,000 real-shaped posts in 11 languages) on one
core, best of ``--rounds`` passes in CPU time (a busy machine stretches wall time, not that), and prints
microseconds per post beside the target: classification runs on every ingested post, so it must stay under 100 µs.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

from pipeline.detector.model import base_model
from pipeline.detector.rules import _run_rules, classify, normalise

TARGET_US = 100.0
DATA = Path(__file__).resolve().parents[1] / "data"


def _posts() -> list[tuple[str, str | None]]:
    rows = []
    for name in ("labelled_requests.jsonl", "labelled_heldout.jsonl"):
        with (DATA / name).open(encoding="utf-8") as fh:
            rows += [json.loads(line) for line in fh if line.strip()]
    return [(r["text"], r["lang"]) for r in rows]


def _per_post_us(fn: Callable[[str, str | None], object], posts: list[tuple[str, str | None]], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        for text, lang in posts:
            fn(text, lang)
        best = min(best, time.process_time() - start)
    return best / len(posts) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="passes over the posts; the best one counts")
    args = parser.parse_args()
    posts = _posts()
    model = base_model()
    classify(*posts[0])  # warm: regex compilation and the model file are one-off costs
    print(f"{len(posts)} posts, mean {sum(len(t) for t, _ in posts) / len(posts):.0f} characters, "
          f"model of {len(model.weights)} weights")
    rules = _per_post_us(_run_rules, posts, args.rounds)
    model_only = _per_post_us(lambda t, _lang: model.logit(normalise(t)), posts, args.rounds)
    verdict_only = _per_post_us(lambda t, lang: classify(t, lang, quote=False), posts, args.rounds)
    hybrid = _per_post_us(classify, posts, args.rounds)
    for name, us in (("rules only (today)", rules), ("model only (with normalise)", model_only),
                     ("hybrid, verdict only (stream)", verdict_only), ("hybrid, with quoted words", hybrid)):
        verdict = "ok" if us < TARGET_US else "TOO SLOW"
        print(f"{name:<30} {us:7.1f} µs/post   target < {TARGET_US:.0f} µs   {verdict}")


if __name__ == "__main__":
    main()
