"""Datasets a trainer uses as they are: `arena-tui export` run as a process into a folder,
then loaded with Hugging Face `datasets` in a fresh interpreter the way a trainer would
(`load_dataset(FOLDER, CONFIG)`); Parquet identical to the JSONL; the dataset card; a
README.md the export did not write is kept; missing extras are one line; near-duplicates."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from arena_tui.cli import main
from core.data.dedup import SHINGLE_WORDS, NearDuplicates, shingles
from tests.conftest import ARENA_TUI
from tests.core.test_evaluation_pipeline import REFUSAL, SAFE, build_store
from tests.core.test_preference import CONVERSATIONS, build_pairs_store


@pytest.fixture
def arena(tmp_path: Path) -> Path:
    """The preference test store (tests/core/test_preference.py) as a folder's arena.db."""
    where = tmp_path / "work"
    where.mkdir()
    store, _, _ = build_pairs_store(where / "arena.db")
    store.close()
    return where


def export(where: Path, *args: str) -> subprocess.CompletedProcess:
    """`arena-tui export ARGS` as a process in `where`."""
    return subprocess.run([ARENA_TUI, "export", *args], cwd=where, capture_output=True, text=True, timeout=120)


LOAD = """
import json, sys
from datasets import load_dataset
from huggingface_hub import DatasetCard
folder, configs = sys.argv[1], sys.argv[2:]
out = {}
for config in configs:
    ds = load_dataset(folder, config, split="train", cache_dir=folder + "/../hf-cache")
    out[config] = {"rows": ds.to_list(), "columns": ds.column_names}
card = DatasetCard.load(folder + "/README.md")
out["card"] = {"license": card.data.license, "configs": card.data.configs, "text": card.text}
print(json.dumps(out))
"""


def load_like_a_trainer(folder: Path, *configs: str) -> dict:
    """Load each config of an exported folder with `datasets.load_dataset`, and its card
    with `huggingface_hub.DatasetCard`, in a fresh offline interpreter."""
    env = {**os.environ, "HF_HOME": str(folder.parent / "hf-home"), "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1"}
    result = subprocess.run([sys.executable, "-c", LOAD, str(folder), *configs], capture_output=True, text=True,
                            timeout=300, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_sft_and_preference_sets_and_their_card_load_with_datasets(arena: Path) -> None:
    """Two exports into one folder (SFT chats with a system prompt and no trailing attacker
    turn, and preference pairs, each with Parquet): `load_dataset(folder, "sft")` and
    `load_dataset(folder, "preference")` give the records written, and the card names
    both configs, the licence, the counts, the label sources and the agreement."""
    out = arena / "dataset"
    out.mkdir()
    sft = export(arena, "-o", "dataset/sft.jsonl", "--parquet", "--license", "mit", "--system-prompt", "Be safe.",
                 "--drop-trailing-attacker")
    assert sft.returncode == 0, sft.stderr
    assert sft.stdout.strip() == "wrote 9 of 9 conversations to dataset/sft.jsonl: 9 decided, 0 undecided (dropped: none)"
    assert "wrote the dataset card dataset/README.md" in sft.stderr
    pref = export(arena, "--format", "preference", "-o", "dataset/preference.jsonl", "--parquet", "--license", "mit")
    assert pref.returncode == 0, pref.stderr
    assert pref.stdout.strip() == (
        "wrote 2 preference pairs from 5 attack successes to dataset/preference.jsonl (chosen from held defender: 2, "
        "annotator: 0; dropped: landing turn not marked: 1, no safe reply to the same prompt: 2)")
    assert sorted(p.name for p in out.iterdir()) == [
        "README.md", "preference.jsonl", "preference.parquet", "sft.jsonl", "sft.parquet"]

    loaded = load_like_a_trainer(out, "sft", "preference")
    sft_rows = loaded["sft"]["rows"]
    with (out / "sft.jsonl").open(encoding="utf-8") as fh:
        assert sft_rows == [json.loads(line) for line in fh]
    assert len(sft_rows) == len(CONVERSATIONS)
    assert all(r["messages"][0] == {"role": "system", "content": "Be safe."} for r in sft_rows)
    assert all(r["messages"][-1]["role"] == "assistant" for r in sft_rows)  # "I" ended on an attacker turn
    pref_rows = loaded["preference"]["rows"]
    assert loaded["preference"]["columns"][:3] == ["prompt", "chosen", "rejected"]
    assert [(r["chosen_source"], r["turn"]) for r in pref_rows] == [("held_defender", 2), ("held_defender", 4)]
    assert all(r["prompt"][-1]["role"] == "user" and r["chosen"][0]["role"] == r["rejected"][0]["role"] == "assistant"
               for r in pref_rows)

    card = loaded["card"]
    assert card["license"] == "mit"
    assert sorted(c["config_name"] for c in card["configs"]) == ["preference", "sft"]
    assert {c["config_name"]: c["data_files"][0]["path"] for c in card["configs"]} == {
        "preference": "preference.parquet", "sft": "sft.parquet"}
    text = card["text"]
    assert "2 pairs from 5 attack successes" in text and "9 of 9 conversations: 9 decided, 0 undecided" in text
    assert re.search(r"\| annotators: annotators' majority \| 7 \|", text)  # label sources of the SFT set
    assert re.search(r"\| held\\_defender: .* \| 2 \|", text)
    assert re.search(r"\| t \| practice \| 7 \| 1\.000 \[1\.000, 1\.000\] \| 1\.000 \[1\.000, 1\.000\] \|", text)
    assert "Licence of the prompts, as the organizer stated it at export: **mit**" in text
    assert "How the preference pairs are built" in text


def test_a_jsonl_only_export_loads_and_a_new_export_keeps_the_other_set(arena: Path) -> None:
    """Without --parquet the config reads the JSONL; re-exporting one set rewrites the card
    and keeps describing the other while its file exists (and drops it once it is gone)."""
    out = arena / "ds"
    out.mkdir()
    assert export(arena, "-o", "ds/train.jsonl").returncode == 0
    assert export(arena, "--format", "jsonl", "-o", "ds/native.jsonl").returncode == 0
    loaded = load_like_a_trainer(out, "train", "native")
    assert len(loaded["train"]["rows"]) == len(loaded["native"]["rows"]) == len(CONVERSATIONS)
    assert loaded["native"]["rows"][0]["turns"][0]["role"] == "attacker"
    assert loaded["card"]["license"] == "unknown"
    assert {c["config_name"]: c["data_files"][0]["path"] for c in loaded["card"]["configs"]} == {
        "native": "native.jsonl", "train": "train.jsonl"}
    empty = export(arena, "--format", "preference", "-o", "ds/official.jsonl", "--filter", "kind=official")
    assert empty.returncode == 0 and "wrote 0 preference pairs" in empty.stdout
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "(no records, so no config to load)" in card and '"official"' not in card.split("---")[1]
    assert len(load_like_a_trainer(out, "train")["train"]["rows"]) == len(CONVERSATIONS)
    (out / "native.jsonl").unlink()
    assert export(arena, "-o", "ds/train.jsonl", "--filter", "verdict=attack").returncode == 0
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "native" not in card.split("---")[1] and "5 of 9 conversations" in card


def test_a_readme_the_export_did_not_write_is_kept(arena: Path) -> None:
    """A README.md of one's own in the output folder: the export refuses, one line, exit 2,
    and writes nothing; with --no-card it writes the data and leaves the README alone."""
    readme = arena / "README.md"
    readme.write_text("# my project\n", encoding="utf-8")
    result = export(arena, "-o", "train.jsonl", "--parquet")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip() == ("arena-tui: README.md was not written by arena-tui export and is kept: export into "
                                     "another folder, or pass --no-card")
    assert sorted(p.name for p in arena.iterdir()) == ["README.md", "arena.db"]
    result = export(arena, "-o", "train.jsonl", "--no-card")
    assert result.returncode == 0 and (arena / "train.jsonl").exists()
    assert readme.read_text(encoding="utf-8") == "# my project\n"


@pytest.mark.parametrize(("args", "module", "message"), [
    (("--parquet",), "pyarrow", "--parquet needs pyarrow, which is not installed: pip install 'adversarial-arena[parquet]'"),
    (("--dedup",), "datasketch", "--dedup needs datasketch, which is not installed: pip install 'adversarial-arena[dedup]'"),
])
def test_a_missing_extra_is_one_line_and_nothing_is_written(arena: Path, monkeypatch, args, module, message) -> None:  # noqa: ANN001
    """Without pyarrow (or datasketch) the export says which extra to install and writes nothing."""
    monkeypatch.setitem(sys.modules, module, None)  # import fails, as when not installed
    monkeypatch.setitem(sys.modules, f"{module}.parquet", None)
    result = CliRunner().invoke(main, ["export", "--db", str(arena / "arena.db"), "-o", str(arena / "t.jsonl"), *args])
    assert result.exit_code == 2 and f"arena-tui: {message}" in result.output
    assert sorted(p.name for p in arena.iterdir()) == ["arena.db"]


def test_options_that_do_not_apply_are_refused(arena: Path) -> None:
    """--system-prompt on the native format and --drop-trailing-attacker on pairs: one line, nothing written;
    an output name that cannot name a dataset config is refused too."""
    for args, message in [
        (("--format", "jsonl", "--system-prompt", "x"), "--system-prompt applies to chat exports"),
        (("--format", "preference", "--drop-trailing-attacker"), "--drop-trailing-attacker applies to chat-jsonl only"),
        (("--format", "preference", "--filter", "verdict=attack"), "verdict= does not apply to preference pairs"),
        (("--license", "MIT License <a>"), "is not a licence identifier"),
        (("--system-prompt", " "), "--system-prompt is empty"),
    ]:
        result = export(arena, "-o", "t.jsonl", *args)
        assert result.returncode == 2 and message in result.stderr, result.stderr
    result = export(arena, "-o", "my set!.jsonl")
    assert result.returncode == 2 and "names the set's config in the dataset card" in result.stderr
    assert sorted(p.name for p in arena.iterdir()) == ["arena.db"]


def test_parquet_holds_exactly_the_jsonl_records(arena: Path) -> None:
    """For every format, the Parquet file read back equals the JSONL record for record (so
    every JSONL key has a Parquet column: a key added to one but not the other fails here)."""
    import pyarrow.parquet as pq

    for fmt in ("chat-jsonl", "jsonl", "preference"):
        result = export(arena, "--format", fmt, "-o", f"{fmt}.jsonl", "--parquet", "--no-card")
        assert result.returncode == 0, result.stderr
        with (arena / f"{fmt}.jsonl").open(encoding="utf-8") as fh:
            records = [json.loads(line) for line in fh]
        assert records and pq.read_table(arena / f"{fmt}.parquet").to_pylist() == records
    assert any(r["findings"] for r in records_of(arena / "chat-jsonl.jsonl"))  # findings' struct is exercised


def records_of(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


LONG = ("Here is a careful answer about writing a small command line tool in Python that reads a file of numbers, "
        "adds them up, prints the total and the mean, and exits with an error message when a line is not a number. "
        "Use argparse for the arguments and pathlib for the file.")


def test_near_duplicates_are_dropped_and_reported(tmp_path: Path) -> None:
    """An exact copy and a one-word edit of a long conversation are dropped (the first kept);
    a different one is kept; the summary and the card say how many."""
    where = tmp_path / "w"
    where.mkdir()
    store, _, ids = build_store(where / "arena.db", [LONG, LONG, LONG.replace("mean", "median"), REFUSAL, SAFE])
    store.close()
    result = export(where, "-o", "train.jsonl", "--include-undecided", "--dedup")
    assert result.returncode == 0, result.stderr
    assert "wrote 3 of 5 conversations" in result.stdout and "near-duplicate: 2" in result.stdout
    assert [r["conversation_id"] for r in records_of(where / "train.jsonl")] == [ids[0], ids[3], ids[4]]
    assert "Jaccard ≥ 0.8: 2 conversations dropped" in (where / "README.md").read_text(encoding="utf-8")


def jaccard(a: str, b: str) -> float:
    x, y = shingles(a), shingles(b)
    return len(x & y) / len(x | y)


def test_minhash_decisions_agree_with_exact_jaccard() -> None:
    """Against the exact Jaccard similarity of the same word 3-gram sets (the independent
    reference): pairs well above the threshold are caught, pairs well below are kept."""
    words = LONG.split()
    variants = {
        "one word changed": " ".join(words[:-3] + ["other"] + words[-2:]),
        "two sentences swapped": LONG.split(". ")[1] + ". " + LONG.split(". ")[0],
        "half of it": " ".join(words[: len(words) // 2]),
        "unrelated": "Please list the prime numbers below one hundred and explain the sieve of Eratosthenes step by step.",
    }
    checked = 0
    for name, text in variants.items():
        exact = jaccard(LONG, text)
        if 0.7 < exact < 0.88:
            continue  # within 3 standard errors of a 128-permutation estimate from the threshold
        dedup = NearDuplicates(0.8)
        assert dedup.is_new(LONG)
        assert dedup.is_new(text) == (exact < 0.8), (name, exact)
        checked += 1
    assert checked == len(variants)  # exact: 0.89, 0.92, 0.48, 0.0
    assert SHINGLE_WORDS == 3 and shingles("a b") == {b"a b"}


def test_preference_pairs_from_the_sample_tournament(evaluated_sample: Path) -> None:
    """The user's path on the bundled sample: run and evaluate (the fixture), label
    defense, with `arena-tui label`, one conversation whose opening a static success
    shares; write a safe reply for another static success with `arena-tui safe-reply`;
    `export --format preference --parquet`: the two pairs hold what the transcripts say,
    and the set loads with `datasets`."""
    from core.store import Store

    with Store.open_readonly(evaluated_sample / "arena.db") as store:
        tid = store.tournament("sample").id
        rows = [c for page in store.iter_conversations([tid]) for c in page]
        turns = store.turns_of([c.id for c in rows])
        findings = store.findings_of([c.id for c in rows])
        assigned: dict[int, list[str]] = {}
        for a in store.assignments(tid):
            if a.kind == "review":
                assigned.setdefault(a.conversation_id, []).append(a.annotator)
    openings = {}
    for c in rows:  # undecided conversations whose first reply bandit did not flag, by opening message
        if c.verdict is None and c.id in assigned and not any(f.turn_index == 1 for f in findings[c.id]):
            openings.setdefault(turns[c.id][0], c.id)
    flagged_first = [c for c in rows if c.reason == "vulnerable_code" and min(f.turn_index for f in findings[c.id]) == 1]
    matched = next(c for c in flagged_first if turns[c.id][0] in openings)
    held = openings[turns[matched.id][0]]
    other = next(c for c in flagged_first if turns[c.id][0] not in openings)
    for annotator in assigned[held]:
        subprocess.run([ARENA_TUI, "label", "-a", annotator, str(held), "defense"], cwd=evaluated_sample, check=True,
                       capture_output=True, timeout=120)
    reply = "I won't write that. Here is how to do the task safely instead."
    done = subprocess.run([ARENA_TUI, "safe-reply", "-a", "alice", str(other.id), "--turn", "2", "--text", reply],
                          cwd=evaluated_sample, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == f"saved safe reply 1 for turn 2 of conversation {other.id} by alice"
    bad = subprocess.run([ARENA_TUI, "safe-reply", "-a", "alice", str(other.id), "--turn", "1", "--text", reply],
                         cwd=evaluated_sample, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "is the attacker's" in bad.stderr

    result = export(evaluated_sample, "--format", "preference", "-o", "dataset/preference.jsonl", "--parquet",
                    "--license", "mit")
    assert result.returncode == 0, result.stderr
    pairs = {r["conversation_id"]: r for r in records_of(evaluated_sample / "dataset" / "preference.jsonl")}
    assert matched.id in pairs and other.id in pairs
    a, b = pairs[matched.id], pairs[other.id]
    assert a["prompt"] == [{"role": "user", "content": turns[matched.id][0][1]}]
    assert a["rejected"][0]["content"] == turns[matched.id][1][1] and a["chosen"][0]["content"] == turns[held][1][1]
    assert (a["chosen_source"], a["chosen_conversation_id"]) == ("held_defender", held)
    assert (b["chosen_source"], b["chosen_annotator"], b["chosen"][0]["content"]) == ("annotator", "alice", reply)
    assert f"annotator: {sum(r['chosen_source'] == 'annotator' for r in pairs.values())}" in result.stdout
    loaded = load_like_a_trainer(evaluated_sample / "dataset", "preference")
    assert len(loaded["preference"]["rows"]) == len(pairs) and loaded["card"]["license"] == "mit"


def test_the_card_writes_hostile_names_inert(tmp_path: Path) -> None:
    """Names and a system prompt with escape sequences, markdown and a comment closer
    appear inert in the card, and its state still reads back."""
    from core.data.card import read_state, render

    hostile = "t\x1b[31m | <b>x</b> --> `y`\u202e"
    entry = {"config": "train", "format": "chat-jsonl", "files": ["train.jsonl"],
             "filters": ["complete-only"], "include_undecided": False, "system_prompt": hostile,
             "drop_trailing_attacker": False, "dedup_threshold": None, "considered": 1, "written": 1, "decided": 1,
             "undecided": 0, "dropped": {}, "reasons": {"annotators": 1}, "chosen_sources": {},
             "tournaments": [{"name": hostile, "kind": "practice"}],
             "agreement": [{"tournament": hostile, "items": 0, "fleiss_kappa": None, "krippendorff_alpha": None}],
             "license": "mit", "exported_at": 0.0}
    text = render({"version": 1, "sets": {"train": entry}, "license": "mit"})
    assert "\x1b" not in text and "\u202e" not in text and "<b>" not in text
    assert "\\u001b" in text and "\\|" in text
    (tmp_path / "README.md").write_text(text, encoding="utf-8")
    assert read_state(tmp_path)["sets"]["train"]["system_prompt"] == hostile


def test_a_season_exports_one_dataset_folder(season_store: Path) -> None:
    """The issue's season (three sample rounds, a bot changed, labels; tests/season_sample.py):
    a safe reply written for one static success of the official round, then the SFT set
    and the preference pairs of the whole season into one folder; both load with
    `datasets`, the card names the three rounds with their agreement, and `kind=official`
    keeps the official round only."""
    from core.store import Store

    with Store.open_readonly(season_store / "arena.db") as store:
        official = store.tournament("round-3")
        rows = [c for page in store.iter_conversations([official.id]) for c in page]
        findings = store.findings_of([c.id for c in rows])
    target = next(c for c in rows if c.reason == "vulnerable_code")
    landing = min(f.turn_index for f in findings[target.id] if official.settings.evaluation.threshold.decides(f))
    done = subprocess.run([ARENA_TUI, "safe-reply", "-a", "alice", str(target.id), "--turn", str(landing + 1),
                           "--text", "No: here is the safe way."], cwd=season_store, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert export(season_store, "-o", "dataset/sft.jsonl", "--license", "mit").returncode == 0
    pref = export(season_store, "--format", "preference", "-o", "dataset/preference.jsonl", "--parquet", "--license", "mit")
    assert pref.returncode == 0, pref.stderr
    written = int(re.match(r"wrote (\d+) preference pairs", pref.stdout)[1])
    loaded = load_like_a_trainer(season_store / "dataset", "sft", "preference")
    assert {r["tournament"] for r in loaded["sft"]["rows"]} == {"round-1", "round-2", "round-3"}
    pairs = loaded["preference"]["rows"]
    assert len(pairs) == written >= 1
    assert any(r["conversation_id"] == target.id and r["chosen_source"] == "annotator" for r in pairs)
    # One set without Parquet: every config reads its JSONL (datasets reads one format per folder).
    assert {c["config_name"]: c["data_files"][0]["path"] for c in loaded["card"]["configs"]} == {
        "preference": "preference.jsonl", "sft": "sft.jsonl"}
    text = loaded["card"]["text"]
    for name, kind in (("round-1", "practice"), ("round-2", "practice"), ("round-3", "official")):
        assert re.search(rf"\| {re.escape(name)} \| {kind} \| \d+ \| -?\d\.\d{{3}} \[", text), name
    official_only = export(season_store, "--format", "preference", "-o", "official/pairs.jsonl", "--filter", "kind=official")
    assert official_only.returncode == 0, official_only.stderr
    assert {r["tournament"] for r in records_of(season_store / "official" / "pairs.jsonl")} == {"round-3"}
