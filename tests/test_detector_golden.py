"""The detector's output, pinned: a speed-up of ``classify`` must give exactly what it gave before (issue #20).

``tests/golden/detector.jsonl.gz`` holds, for each of a few thousand posts, what the detector said when the file
was written: the verdict with its reasons and quoted words, the verdict without quotes, the rules' evidence, the
model's logit (with and without the rules' names) and its top words either way. The posts are the labelled sets,
the same dressed as real posts (links, accents, smart quotes, emoji), API-shaped statuses like the benchmark's,
and hand-made edge cases; they are stored in the file too, so a change to a generator cannot move the goal posts.

Set UPDATE_GOLDEN=1 to rewrite the file after a deliberate change of behaviour, and say why in the commit.
"""

from __future__ import annotations

import gzip
import json
import os
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.detector.model import Model, base_model
from pipeline.detector.rules import classify, normalise, rule_evidence
from tests.support import DRESSINGS, labelled_texts

GOLDEN = Path(__file__).parent / "golden" / "detector.jsonl.gz"
DATA = Path(__file__).parent / "data"
# Logits are stored to 1e-9; the model sums over a set of words, so the last bits follow the hash seed.
LOGIT_TOLERANCE = 2e-9

EDGE_CASES: list[tuple[str, str | None]] = [
    ("", None),
    ("", "en"),
    ("   \n\t ", "en"),
    ("?", None),
    ("??", "en"),
    ("¿?", "es"),
    ("¿", "es"),
    ("¿Alguien sabe cómo exportar datos de Koha?", "es"),
    ("¿Conocéis alguna guía sobre preservación digital? Gracias 🙏", "es-ES"),
    ("¡Hola! ¿Qué sistema usáis en una biblioteca pequeña?", "ES"),
    ("Does anyone know a good ILS? https://example.org/search?q=ils&x=1", "en"),
    ("See https://example.org/page?id=3 for details.", "en"),
    ("https://example.org/a?b", None),
    ("www.example.org/a?b=c anyone?", "en"),
    ("Read site.org/p?id=3 and/or? tell me", "en"),
    ("Can anyone recommend a scanner?https://x.org", "en"),
    ("Does anyone know?\u00a0Anyone at all?", "en"),
    ("Anyone tried FOLIO\u2753", "en"),
    ("Anyone tried FOLIO\u2754 \u2014 asking for a friend\u2026", "en"),
    ("Quelqu\u2019un connaît-il un bon SIGB\u00a0?", "fr"),
    ("Quelqu`un a une idée ?", "fr"),
    ("Kennt jemand ein gutes System für Bücher? Weiß jemand, wie das geht?", "de"),
    ("STRAẞE und Maße: kennt jemand das?", "de"),
    ("İstanbul'da kütüphane var mı?", "tr"),
    ("Ǆ ǅ ǆ ﬁle ﬂow ﬀ — anyone?", None),
    ("Œuvres complètes: des idées pour les ranger ? «merci»", "fr"),
    ("Weet iemand een goed systeem voor een kleine bibliotheek?", "nl"),
    ("Qualcuno usa Koha in una piccola biblioteca?", "it"),
    ("Alguém conhece um bom sistema?", "pt"),
    ("Vet någon hur man gör?", "sv"),
    ("Czy ktoś zna dobry system biblioteczny?", "pl"),
    ("Библиотека: кто-нибудь знает хорошую систему?", "ru"),
    ("図書館のシステムについて質問があります？", "ja"),
    ("مكتبة صغيرة: هل يعرف أحد نظاما جيدا؟", "ar"),
    ("🧵 Thread: the tools I use 1/5 📚📚📚", "en"),
    ("📚🤔❓", None),
    ("👩🏽\u200d💻 Does anyone\u200b know a good tool?", "en"),
    ("e\u0301 cafe\u0301 — anyone know a cafe\u0301 catalog?", "en"),
    ("ANYONE KNOW A GOOD ILS FOR A LAW LIBRARY???", "en"),
    ("anyone know anyone know anyone know?", "en"),
    ("Does anyone know... a good ILS... for us?", "en"),
    ("We're hiring! Apply here: https://jobs.example.org/?ref=masto #jobs", "en"),
    ("Webinar next week: does your library need a new ILS? Register now!", "en"),
    ("Thanks everyone who answered yesterday!", "en"),
    ("Did you know that libraries lend more than books?", "en"),
    ("Can someone point me to a template for a collection development policy", "en-GB"),
    ("Can someone point me to a template for a collection development policy", ""),
    ("Can someone point me to a template for a collection development policy", "EN"),
    ("x" * 5000 + " anyone know?", "en"),
    ("Does anyone know a good ILS? " + "#sololibrarians " * 300, "en"),
    (("Any recommendations for a barcode scanner that works with Koha? " * 40).strip(), "en"),
    ("Any recommendations for a barcode scanner? " + "é" * 2000, "en"),
    ("line one\nDoes anyone\nknow a good ILS\n?", "en"),
    ("Tab\tseparated\twords\tanyone\tknow?", "en"),
    ("\x00\x01\x02 control characters anyone?", "en"),
    ("a?b c?d e?", None),
    ("v2.1 or 5.000? Which one do you use?", "en"),
    ("Is there a simple way to export circulation data as CSV? No.", "en"),
    ("Any tips? Our service does it for you! Book a demo.", "en"),
]


def _dressed(texts: list[tuple[str, str | None]]) -> Iterator[tuple[str, str | None]]:
    """Each text dressed as real posts are, so quoting takes its slow path (words looked up one by one)."""
    rng = random.Random(2026)
    dress = [
        *DRESSINGS,
        lambda t: t.upper(),
        lambda t: t.replace("e", "é", 2).replace("a", "à", 1),
    ]
    for text, lang in texts:
        yield rng.choice(dress)(text), rng.choice((lang, lang, None, "en", "es"))


def _statuses(n: int = 3000) -> list[tuple[str, str | None]]:
    """Top-level posts as ingest sees them: generated API statuses, parsed as the collector parses them."""
    from collectors.mastodon.parse import parse_statuses
    from tests.benchmarks.common import StatusStream

    errors: list[str] = []
    posts = []
    for host, items in StatusStream(accounts=500, seed=4242).chunk(n).items():
        parsed, _ = parse_statuses(json.loads(json.dumps(items)), f"https://{host}", host, errors)
        posts += parsed
    return list(dict.fromkeys((p.text, p.lang) for p in posts if p.reply_to is None))


def _inputs() -> list[tuple[str, str | None]]:
    labelled = labelled_texts()
    return list(dict.fromkeys([*labelled, *_dressed(labelled), *_statuses(), *EDGE_CASES]))


def _record(text: str, lang: str | None) -> dict[str, object]:
    """Everything the detector says about one post."""
    model = base_model()
    v = classify(text, lang, model=model)
    bare = classify(text, lang, model=model, quote=False)
    margin, fired = rule_evidence(text, lang)
    norm = normalise(text)
    return {
        "text": text, "lang": lang,
        "verdict": [v.is_request, list(v.reasons), list(v.words)],
        "unquoted": [bare.is_request, list(bare.reasons), list(bare.words)],
        "evidence": [margin, fired],
        "logit": [round(model.logit(norm, fired), 9), round(model.logit(norm), 9)],
        "top": [model.top_words(norm, True), model.top_words(norm, False)],
    }


def _load() -> list[dict[str, object]]:
    with gzip.open(GOLDEN, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


if os.environ.get("UPDATE_GOLDEN"):  # pragma: no cover - run by hand after a deliberate change
    GOLDEN.parent.mkdir(parents=True, exist_ok=True)
    with gzip.GzipFile(GOLDEN, "wb", mtime=0) as raw:  # mtime 0: the same output gives the same bytes
        raw.write("".join(json.dumps(_record(t, lang), ensure_ascii=False) + "\n"
                          for t, lang in _inputs()).encode("utf-8"))

ROWS = _load() if GOLDEN.exists() else []


def test_the_golden_file_covers_what_it_should() -> None:
    assert GOLDEN.exists(), "no golden file: UPDATE_GOLDEN=1 writes it"
    assert GOLDEN.stat().st_size < 1_000_000
    texts = [str(r["text"]) for r in ROWS]
    assert len(ROWS) > 4000
    assert sum(1 for t in texts if not t.isascii()) > 1500  # the slow quoting path
    assert sum(1 for r in ROWS if r["verdict"][0]) > 800  # type: ignore[index]
    assert any(str(reason).startswith("model:") for r in ROWS for reason in r["verdict"][1])  # type: ignore[index]
    assert {"", "?", "¿"} <= set(texts) and max(map(len, texts)) > 5000


@pytest.mark.parametrize("part", range(4))
def test_the_detector_says_what_it_said(part: int) -> None:
    """Each stored post recomputed; the logits to 1e-9, the rest exactly (in four parts, so a failure says where)."""
    rows = ROWS[part::4]
    assert rows
    differ = []
    for row in rows:
        now = _record(str(row["text"]), row["lang"])  # type: ignore[arg-type]
        logits = zip(now.pop("logit"), row["logit"], strict=True)  # type: ignore[call-overload]
        logits_agree = all(abs(a - b) <= LOGIT_TOLERANCE for a, b in logits)
        was = {k: v for k, v in row.items() if k != "logit"}
        if not logits_agree or json.loads(json.dumps(now, ensure_ascii=False)) != was:
            differ.append((row, now))
    assert not differ, f"{len(differ)} posts differ, first: {differ[0]}"


def test_link_words_normalise_to_what_normalise_says() -> None:
    """Quoting skips a whole-link word without normalising it: that shortcut must agree with ``normalise``."""
    from pipeline.detector import rules

    rng = random.Random(5)
    heads = ["http://", "https://", "HTTPS://", "Http://", "www.", "WWW.", "http:/", "https:", "ww.", "httpx://", ""]
    tails = ["", "a", "x.org", "x.org/p?q=1", "a`b", "é", "x?", "://", "?", "/a/b?c", "\u2014", "\U0001f9f5"]
    words = [h + "".join(rng.choice(tails) for _ in range(rng.randrange(0, 4))) for h in heads for _ in range(300)]
    for word in words:
        assert rules._norm_word(word) == rules.normalise(word).strip(), word


def test_ascii_posts_with_links_quote_what_the_word_index_quotes() -> None:
    """Quoting an ASCII post with links reads its lower-cased words up to the first link: the same words as the
    full index of normalised words, for every fragment, wherever the links, backquotes and repeats fall."""
    from pipeline.detector import rules

    rng = random.Random(9)
    pieces = ["Anyone know", "anyone  know", "ANYONE\nknow", "a good ILS?", "(https://x.org/a?b)", "see:www.x.org",
              "site.org/p?q=1", "and/or", "https://knowhow.org/anyone", "x.org/tips?know", "it`s", "it's",
              "https://x.org", "thanks,", "know.", "!", "-", "tips"]
    frags = ["anyone know", "a good ils?", "know", "anyone", "(", "it's", "thanks", "tips", "know a", "and/or", "-"]
    found = 0
    for _ in range(3000):
        text = " ".join(rng.choice(pieces) for _ in range(rng.randrange(1, 12)))
        plain, index = rules._plain_words(text), rules._index_words(text)
        for frag in frags:
            quick = rules._find_plain(text, plain, frag)
            if quick is not None:
                found += 1
                assert quick == rules._find_words(text, index, frag), (text, frag)
    assert found > 3000


def test_the_model_word_cache_stays_bounded_and_answers_do_not_depend_on_it() -> None:
    """A stream of one-off words clears the cache; a post whose known words went with it still scores the same."""
    base = base_model()
    model = Model(weights=base.weights, bias=base.bias, combine=base.combine)  # its own cache, filled below
    norm = normalise("Does anyone know a good ILS for a small law library? We use spreadsheets.")
    norm += " " + " ".join(f"new{i}" for i in range(20))
    expected = base.logit(norm)
    model.logit(norm[:60])  # the post's first words are known now
    for i in range(100_000 - 5 - len(model._words)):
        model._words[f"w{i}"] = 0.0  # and the cache is nearly full
    assert abs(model.logit(norm) - expected) <= LOGIT_TOLERANCE
    assert len(model._words) <= 100_000
