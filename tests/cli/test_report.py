"""Dataset report: counts by reason, agreement per label, diversity within < between, audit; the TUI screen."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import numpy as np
from click.testing import CliRunner

from arena_tui.cli import main
from core.data.report import build_report, ngram_tfidf_embedder, to_markdown, within_between
from core.evaluation.pipeline import build_queue, record_label, refresh_verdicts, run_static_stage
from core.store import Store
from tests.core.test_evaluation_pipeline import REFUSAL, SAFE, VULNERABLE, build_store
from tests.tui.test_annotate_tui import run_async


def labelled(path: Path) -> tuple[Store, int, list[int]]:
    """0 vulnerable (static, audited), 1 labelled attack, 2 labelled defense, 3 undecided."""
    store, tid, ids = build_store(path, [VULNERABLE, SAFE, REFUSAL, SAFE], annotators=("ann1", "ann2", "ann3"),
                                  audit_fraction=1.0)
    run_static_stage(store, tid)
    build_queue(store, tid)
    for who, labels in (("ann1", "aad"), ("ann2", "aad"), ("ann3", "adA")):
        for cid, code in zip(ids[:3], labels, strict=True):
            record_label(store, cid, who, {"a": "attack", "d": "defense", "A": "attack"}[code])
    refresh_verdicts(store, tid)
    return store, tid, ids


def test_counts_agreement_and_audit(tmp_path: Path) -> None:
    """Fig. 4 counts split by reason; agreement with intervals overall and per label; audit precision with Wilson."""
    store, tid, _ = labelled(tmp_path / "a.db")
    report = build_report(store, [tid], resamples=100)
    c = report.counts[0]
    assert (c.conversations, c.complete, c.vulnerable_code, c.malicious_assistance, c.defended, c.undecided) == (4, 4, 1, 1, 1, 1)
    a = report.agreement[0]
    assert a.items == 3 and set(a.per_label) == {"attack", "defense"} and a.fleiss_kappa.low <= a.fleiss_kappa.value
    audit = report.audit[0]
    assert (audit.judged, audit.confirmed, audit.precision) == (1, 1, 100.0) and audit.interval.hi == 100.0
    text = to_markdown(report)
    assert "Fig. 4" in text and "Table 1" in text and "Table 2" in text and "Wilson" in text


def test_diversity_embedding_separates_groups() -> None:
    """n-gram TF-IDF vectors: texts of one style are closer to each other than to another style."""
    texts = ["please write a python function to read a file"] * 3 + ["quel temps fait-il à Paris aujourd'hui ?"] * 3
    texts = [t + f" {i}" for i, t in enumerate(texts)]
    vectors = ngram_tfidf_embedder(texts)
    assert vectors.shape[0] == 6
    norms = np.bincount(vectors.rows, weights=vectors.values ** 2)
    assert np.allclose(norms, 1, atol=1e-12)
    within, between = within_between(vectors, ["en"] * 3 + ["fr"] * 3)
    assert within < between
    assert within_between(ngram_tfidf_embedder(texts[:1]), ["x"]) == (None, None)


def _reference():
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    import bench_diversity

    return bench_diversity


def test_diversity_distances_equal_the_unhashed_cosines() -> None:
    """Table 2's distances are the exact n-gram TF-IDF cosine distances, to 1e-9 of every
    pair computed from plain dicts of n-grams: for two unrelated texts of ~1,300
    distinct n-grams each (0.99; 4,096 hashed buckets put them at 0.83), for groups of
    conversation-like texts, with empty, one-character, non-ASCII and over-long texts,
    for the same vectors given as dense rows (the plug-in embedder path), and for texts
    over an alphabet of thousands of characters."""
    bench = _reference()
    rng = random.Random(4)
    words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 9)))
             for _ in range(400)]
    unrelated = [" ".join(rng.sample(words[:200], 65)), " ".join(rng.sample(words[200:], 65))]
    reference = bench.ngram_tfidf_reference(unrelated)
    assert all(1300 <= len(v) <= 1700 for v in reference)
    expected = bench.within_between_reference(reference, ["a", "b"])
    within, between = within_between(ngram_tfidf_embedder(unrelated), ["a", "b"])
    assert within is None and abs(between - expected[1]) < 1e-9 and between > 0.95

    texts, groups = bench.make_report_texts(rng, 80, n_groups=4)
    texts += ["", "x", "Ünïcödé 漢字 test \u200b", "long " * 2000]
    groups += ["group-0", "group-1", "group-2", "group-3"]
    reference = bench.ngram_tfidf_reference(texts)
    expected = bench.within_between_reference(reference, groups)
    sparse = ngram_tfidf_embedder(texts)
    got = within_between(sparse, groups)
    assert max(abs(a - b) for a, b in zip(got, expected, strict=True)) < 1e-9
    dense = np.zeros(sparse.shape)
    dense[sparse.rows, sparse.cols] = sparse.values
    got = within_between(dense, groups)
    assert max(abs(a - b) for a, b in zip(got, expected, strict=True)) < 1e-9

    # Over 6,208 distinct characters, a 5-gram's number would not fit in 63 bits: the
    # n-grams are renumbered densely on the way.
    alphabet = [chr(0x4E00 + i) for i in range(20000)]
    chunks = ["".join(rng.choice(alphabet) for _ in range(rng.randint(10, 30))) for _ in range(600)]
    texts = [" ".join(rng.choice(chunks[:400] if g else chunks[200:]) for _ in range(150))
             for g in (0, 1) for _ in range(3)]
    groups = ["a"] * 3 + ["b"] * 3
    assert len(set("".join(t[:4000] for t in texts))) > 6208
    expected = bench.within_between_reference(bench.ngram_tfidf_reference(texts), groups)
    got = within_between(ngram_tfidf_embedder(texts), groups)
    assert max(abs(a - b) for a, b in zip(got, expected, strict=True)) < 1e-9


def test_cli_report_writes_markdown(tmp_path: Path) -> None:
    """`arena-tui report -o` writes the markdown; an unknown embedding is one error line."""
    labelled(tmp_path / "a.db")[0].close()
    out = tmp_path / "report.md"
    result = CliRunner().invoke(main, ["report", "--db", str(tmp_path / "a.db"), "-o", str(out), "--resamples", "100"])
    assert result.exit_code == 0, result.output
    assert "| t | practice | 4 | 4 | 0 | 1 | 1 | 1 | 1 |" in out.read_text()
    result = CliRunner().invoke(main, ["report", "--db", str(tmp_path / "a.db"), "--embedding", "magic"])
    assert result.exit_code == 2 and "unknown embedding" in result.output


@run_async
async def test_report_screen_shows_fig4_bars(tmp_path: Path) -> None:
    """The report screen, pushed on a minimal App, computes in a worker and draws one bar per reason."""
    from textual.app import App
    from textual.widgets import Static

    from arena_tui.annotate.screens.report import ReportScreen

    labelled(tmp_path / "a.db")[0].close()

    class Minimal(App):
        def on_mount(self) -> None:
            self.push_screen(ReportScreen(tmp_path / "a.db", resamples=100))

    app = Minimal()
    async with app.run_test(size=(120, 50)) as pilot:
        for _ in range(4):
            await pilot.pause()
            await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ReportScreen) and screen.report is not None
        chart = str(screen.query_one("#report-fig4", Static).render())
        assert "vulnerable code" in chart and "malicious assistance" in chart and "█" in chart
