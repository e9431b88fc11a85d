"""A season of three sample tournaments built with the real `arena-tui` command line:
different seeds, two practice rounds then an official one, the defender `naive-helper`
replaced by a better bot from round 2 on, some conversations labelled by three
annotators in every round (through `arena-tui labels import`), all three rounds grouped
with `arena-tui season add`."""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from pathlib import Path

from sample_data import SAMPLE_CONFIG

SEASON = "spring"
ROUNDS = (("round-1", "practice", 101), ("round-2", "practice", 202), ("round-3", "official", 303))
# The bot that changes between rounds: this team fields another class from round 2 on.
CHANGED_TEAM = "naive-helper"
# Conversations per matchup: the smallest grid that still gives every matchup a rate.
CONVERSATIONS = 4
# Labelled per round, by each of three annotators (some disagreement, for Table 1).
LABELLED_PER_ROUND = 8


def round_config(where: Path, name: str, kind: str, seed: int, changed: bool) -> Path:
    """The bundled sample config as one round: its name, kind and seed, full-speed bots
    at their absolute paths, and `CHANGED_TEAM` playing `Balanced` when `changed`."""
    text = SAMPLE_CONFIG.read_text(encoding="utf-8")
    text = re.sub(r'^name = ".*"$', f'name = "{name}"', text, count=1, flags=re.M)
    text = re.sub(r'^kind = ".*"$', f'kind = "{kind}"', text, count=1, flags=re.M)
    text = re.sub(r"^seed = .*$", f"seed = {seed}", text, count=1, flags=re.M)
    text = text.replace('SAMPLE_THINK_MS = "30"', 'SAMPLE_THINK_MS = "0"')
    bots = SAMPLE_CONFIG.parent / "bots"
    text = text.replace('"bots/', f'"{bots.as_posix()}/')
    text = text.replace('folder = "."', f'folder = "{SAMPLE_CONFIG.parent.as_posix()}"')  # the bots' own folder
    text = text.replace('guidelines = "guidelines.md"', f'guidelines = "{(SAMPLE_CONFIG.parent / "guidelines.md").as_posix()}"')
    text = text.replace('"utility/', f'"{(SAMPLE_CONFIG.parent / "utility").as_posix()}/')
    if changed:  # the team's entry only, not the base model's (which plays NaiveHelper too)
        text = text.replace(f'name = "{CHANGED_TEAM}"\npython = "{bots.as_posix()}/defenders.py:NaiveHelper"',
                            f'name = "{CHANGED_TEAM}"\npython = "{bots.as_posix()}/defenders.py:Balanced"')
        assert "defenders.py:Balanced" in text.split(f'name = "{CHANGED_TEAM}"')[1].split("[[")[0]
    path = where / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def arena(arena_tui: str, where: Path, *args: str) -> subprocess.CompletedProcess:
    """Run `arena-tui ARGS` in `where`; fails loudly with its stderr."""
    result = subprocess.run([arena_tui, *args], cwd=where, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"arena-tui {' '.join(args)}: {result.stdout}\n{result.stderr}"
    return result


def label_lines(db: Path, tournament: str) -> list[str]:
    """Label-log lines for the first conversations of alice's queue in a round: alice,
    bob and carol each label them; they disagree on every third one."""
    from core.data.packs import LABELS_FORMAT
    from core.store import Store

    with Store.open_readonly(db) as store:
        tid = store.tournament(tournament).id
        arena_id = store.arena_id
        queued = [a.conversation_id for a in store.assignments(tid) if a.annotator == "alice"]
    lines = []
    for k, cid in enumerate(dict.fromkeys(queued).keys()):
        if k == LABELLED_PER_ROUND:
            break
        for who in ("alice", "bob", "carol"):
            label = "attack" if (k % 2 == 0) != (who == "carol" and k % 3 == 0) else "defense"
            lines.append(json.dumps({"format": LABELS_FORMAT, "arena_id": arena_id, "event_uid": uuid.uuid4().hex,
                                     "conversation_id": cid, "annotator": who, "action": "label", "label": label,
                                     "tags": [], "turn": None, "note": "", "created_at": 1.0 + k,
                                     "source": "test", "forced": True, "undoes_uid": None}))
    return lines


def build_season(arena_tui: str, where: Path) -> Path:
    """Run, evaluate, label and group the three rounds into ./arena.db in `where`."""
    for k, (name, kind, seed) in enumerate(ROUNDS):
        config = round_config(where, name, kind, seed, changed=k > 0)
        arena(arena_tui, where, "run", "-q", "--conversations", str(CONVERSATIONS), str(config))
    arena(arena_tui, where, "evaluate")
    for name, _, _ in ROUNDS:
        path = where / f"{name}-labels.jsonl"
        path.write_text("\n".join(label_lines(where / "arena.db", name)) + "\n", encoding="utf-8")
        arena(arena_tui, where, "labels", "import", str(path))
    arena(arena_tui, where, "season", "add", SEASON, *(name for name, _, _ in ROUNDS))
    return where / "arena.db"
