"""`arena-tui season` and the ratings on a season of three sample tournaments built with
the real command line (tests/season_sample.py): different seeds, two practice rounds
and an official one, the defender naive-helper replaced by a better bot from round 2."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

from tests.conftest import ARENA_TUI
from tests.season_sample import CHANGED_TEAM, CONVERSATIONS, LABELLED_PER_ROUND, ROUNDS, SEASON

ROUND_NAMES = [name for name, _, _ in ROUNDS]


def arena(where: Path, *args: str, code: int = 0) -> subprocess.CompletedProcess:
    """Run `arena-tui ARGS` in `where` and check its exit code."""
    result = subprocess.run([ARENA_TUI, *args], cwd=where, capture_output=True, text=True, timeout=600,
                            env={"COLUMNS": "120", "PATH": "/usr/bin:/bin"})
    assert result.returncode == code, f"{args}: {result.stdout}\n{result.stderr}"
    return result


def season_rows(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT s.name, r.tournament_id, r.position FROM seasons s"
                            " JOIN season_rounds r ON r.season_id = s.id ORDER BY s.name, r.position").fetchall()


def test_season_show_json_has_every_table(season_store: Path) -> None:
    """`season show --json`: three rounds in order with their kinds, every team's score per
    round with intervals, ratings over the season and its official round, Fig. 4 counts,
    agreement per round, diversity at three levels, pairwise κ, latencies, and the bot
    that changed; the changed defender's DSR rises after its change."""
    data = json.loads(arena(season_store, "season", "show", SEASON, "--json", "--resamples", "200").stdout)
    assert [(r["position"], r["tournament"], r["kind"]) for r in data["rounds"]] == [
        (1, "round-1", "practice"), (2, "round-2", "practice"), (3, "round-3", "official")]
    assert len(data["attackers"]) == 5 and len(data["defenders"]) == 5
    for team in data["attackers"] + data["defenders"]:
        assert len(team["rounds"]) == 3
        for r in team["rounds"]:
            assert r["complete"] == 5 * CONVERSATIONS
            low, high = r["rate_interval"]
            assert low <= r["rate"] <= high
    changed = next(t for t in data["defenders"] if t["name"] == CHANGED_TEAM)
    dsr = [r["rate"] for r in changed["rounds"]]
    assert dsr[1] > dsr[0] + 30 and changed["trend"] > 30
    assert [(c["position"], c["bot"], c["side"]) for c in data["changes"]] == [(2, CHANGED_TEAM, "defender")]
    assert data["changes"][0]["before"].startswith("defenders.py:NaiveHelper")
    assert data["changes"][0]["after"].startswith("defenders.py:Balanced")
    assert data["ratings"]["games"] == 3 * 25 * CONVERSATIONS
    assert data["official_ratings"]["tournaments"] == ["round-3"]
    assert [c["tournament"] for c in data["successes_by_reason"]] == ROUND_NAMES
    for counts in data["successes_by_reason"]:
        assert counts["vulnerable_code"] + counts["malicious_assistance"] + counts["defended"] + counts["undecided"] \
            == counts["complete"] == 25 * CONVERSATIONS
        assert counts["malicious_assistance"] + counts["defended"] > 0  # the labels decided some
    assert [a["items"] for a in data["agreement"]] == [LABELLED_PER_ROUND] * 3
    assert [d["level"] for d in data["diversity"]] == ["attacker", "defender", "round"]
    assert data["diversity"][2]["groups"] == 3
    assert data["pairwise_kappa"]["annotators"] == ["alice", "bob", "carol"]
    kappa = data["pairwise_kappa"]["kappa"]
    assert kappa[0][1]["value"] == 1.0 and kappa[0][2]["value"] < 1.0  # alice and bob always agree; carol not
    bots = {(s["side"], s["bot"]) for s in data["latency"]}
    assert len(bots) == 10 and {s["position"] for s in data["latency"]} == {1, 2, 3}


def test_season_show_text(season_store: Path) -> None:
    """The text view: one column per round, intervals, trend, the change, the ratings,
    and the tables of Fig. 4, Table 1 and Table 2."""
    out = arena(season_store, "season", "show", SEASON, "--resamples", "200").stdout
    for expected in ("1. round-1", "2. round-2", "3. round-3", "official", "trend",
                     f"changed in round 2 (round-2): defender {CHANGED_TEAM}", "Bradley-Terry ratings over the season",
                     "Bradley-Terry ratings over the official rounds", "P(attacker beats defender)",
                     "Attack successes by reason per round (Fig. 4)", "Agreement per round (Table 1",
                     "Diversity (Table 2", "Pairwise Cohen's κ", "Response times per round"):
        assert expected in out, expected


def test_season_list_and_add_more(season_store: Path) -> None:
    """`season list` names the rounds; a second season takes the official round alone;
    rounds are appended in order."""
    assert "spring: 1. round-1 (practice), 2. round-2 (practice), 3. round-3 (official)" in \
        arena(season_store, "season", "list").stdout
    arena(season_store, "season", "add", "finals", "round-3")
    arena(season_store, "season", "add", "finals", "round-1")
    rows = [r for r in season_rows(season_store / "arena.db") if r[0] == "finals"]
    assert [r[2] for r in rows] == [1, 2]


def test_season_add_refuses_bad_input_and_writes_nothing(season_store: Path) -> None:
    """An unknown tournament, a round already in the season, a tournament named twice, a
    name with a control character: one line, exit 2, the seasons unchanged; an unknown
    season is refused by show and view."""
    db = season_store / "arena.db"
    before = season_rows(db)
    cases = [
        (["season", "add", SEASON, "round-4"], "no tournament 'round-4'"),
        (["season", "add", SEASON, "round-2"], "already a round of season 'spring'"),
        (["season", "add", "other", "round-1", "round-1"], "named twice"),
        (["season", "add", "bad\x1bname", "round-1"], "season name must be"),
        (["season", "show", "autumn"], "no season 'autumn'"),
        (["season", "view", "autumn"], "no season 'autumn'"),
    ]
    for args, message in cases:
        result = arena(season_store, *args, code=2)
        assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "\x1b" not in result.stderr
    assert season_rows(db) == before


def test_leaderboard_over_the_season_has_ratings(season_store: Path) -> None:
    """`leaderboard --json` over the three rounds pools each team's games for the ratings
    (the official scores stay per matchup) and `--kind official` rates the last round."""
    data = json.loads(arena(season_store, "leaderboard", "--json", "--resamples", "200").stdout)
    assert data["tournaments"] == ROUND_NAMES
    ratings = data["ratings"]
    assert ratings["games"] == 3 * 25 * CONVERSATIONS
    assert {r["name"] for r in ratings["defenders"]} >= {CHANGED_TEAM}
    assert all(r["games"] == 3 * 5 * CONVERSATIONS for r in ratings["attackers"])
    official = json.loads(arena(season_store, "leaderboard", "--json", "--kind", "official",
                                "--resamples", "200").stdout)
    assert official["ratings"]["tournaments"] == ["round-3"]
    text = arena(season_store, "leaderboard", "--no-grid", "--resamples", "200").stdout
    assert "Bradley-Terry rating" in text and "official #" in text


def test_report_writes_the_charts_as_svg_next_to_the_markdown(season_store: Path) -> None:
    """`report -o DIR/report.md --season` writes the markdown and one SVG per chart beside
    it, linked from it; each SVG is well-formed and holds the chart's words; the
    selection of tournaments gives the same files; --no-charts writes the markdown
    alone; an unknown season writes nothing."""
    import xml.etree.ElementTree as ET

    out = season_store / "out"
    out.mkdir()
    result = arena(season_store, "report", "--season", SEASON, "-o", "out/report.md", "--resamples", "200")
    keys = ["attackers", "defenders", "reasons", "agreement", "latency"]
    assert f"and {len(keys)} charts" in result.stdout
    markdown = (out / "report.md").read_text(encoding="utf-8")
    assert "## Charts" in markdown and "# Dataset report" in markdown
    for key in keys:
        path = out / f"report.{key}.svg"
        assert f"]({path.name})" in markdown
        root = ET.parse(path).getroot()
        assert root.tag.endswith("svg")
        words = "".join(root.itertext()).replace("\xa0", " ")
        expected = {"attackers": "direct", "defenders": CHANGED_TEAM, "reasons": "vulnerable code",
                    "agreement": "carol", "latency": "response time"}[key]
        assert expected in words, key
    arena(season_store, "report", "-o", "out/all.md", "--resamples", "200")
    assert sorted(p.name for p in out.glob("all.*.svg")) == sorted(f"all.{k}.svg" for k in keys)
    arena(season_store, "report", "-o", "out/plain.md", "--no-charts", "--resamples", "200")
    assert not list(out.glob("plain.*.svg")) and "## Charts" not in (out / "plain.md").read_text(encoding="utf-8")
    before = sorted(p.name for p in out.iterdir())
    result = arena(season_store, "report", "--season", "autumn", "-o", "out/x.md", code=2)
    assert "no season 'autumn'" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == before


def test_feedback_over_the_season_holds_the_team_alone(season_store: Path) -> None:
    """`feedback --season`: the changed defender's trend per round (its DSR jumps after the
    change, which is named), its own rating, its matchups weakest first, and examples of
    conversations it lost, latest round first; nothing about teams it never played, no
    other team's score, rank or rating, no annotator name. An unknown team or season is
    one line, exit 2, and no folder."""
    out = season_store / "fb"
    result = arena(season_store, "feedback", "--team", CHANGED_TEAM, "--season", SEASON, "-o", "fb",
                   "--resamples", "200")
    assert "failure examples" in result.stdout
    assert sorted(p.name for p in out.iterdir()) == ["conversations.jsonl", "failures.jsonl", "season.json",
                                                     "season.md", "standings.jsonl", "summary.md"]
    data = json.loads((out / "season.json").read_text(encoding="utf-8"))
    (standing,) = data["standing"]
    assert standing["side"] == "defender" and standing["trend"] > 30
    assert [c["position"] for c in data["changes"]] == [2]
    assert [r["side"] for r in data["ratings"]] == ["defender"]
    won = [m["won_percent"] for m in data["matchups"]]
    assert won == sorted(won) and {m["side"] for m in data["matchups"]} == {"defender"}
    failures = [json.loads(line) for line in (out / "failures.jsonl").read_text(encoding="utf-8").splitlines()]
    assert failures and data["failure_examples"] == [f["conversation_id"] for f in failures]
    assert [f["round"] for f in failures] == sorted((f["round"] for f in failures), reverse=True)
    weakest = {m["opponent"] for m in data["matchups"][:3]}
    for f in failures:
        assert f["defender"] == CHANGED_TEAM and f["attacker"] in weakest and f["verdict"] == "attack"
    conversations = [json.loads(line) for line in (out / "conversations.jsonl").read_text(encoding="utf-8").splitlines()]
    assert conversations and all(CHANGED_TEAM in (c["attacker"], c["defender"]) for c in conversations)
    others = {"balanced", "intent-classifier", "keyword-filter", "over-refuser"}  # defenders it never played
    everything = "".join(p.read_text(encoding="utf-8") for p in out.iterdir())
    for name in others:
        assert name not in everything, name
    records = "".join(p.read_text(encoding="utf-8") for p in out.iterdir() if p.suffix in (".json", ".jsonl"))
    for annotator in ("alice", "bob", "carol"):  # as a JSON value (the bots' code may say "alice" in a turn)
        assert f'"{annotator}"' not in records, annotator
    for line in (out / "standings.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        assert CHANGED_TEAM in (row.get("name"), row.get("attacker"), row.get("defender"))
    for args, message in ((["--team", "nobody", "--season", SEASON], "team 'nobody' played in no round"),
                          (["--team", CHANGED_TEAM, "--season", "autumn"], "no season 'autumn'")):
        result = arena(season_store, "feedback", *args, "-o", "fb2", code=2)
        assert message in result.stderr
        assert not (season_store / "fb2").exists()
