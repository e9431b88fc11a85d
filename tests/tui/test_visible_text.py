"""Invisible format characters from bots, names and imported files (bidi controls,
zero-width characters, tag characters) are shown as visible `<U+XXXX>` placeholders in
every view: the watch and annotate screens and the CLI's terminal output."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from click.testing import CliRunner

from arena_tui.cli import main
from arena_tui.cli.labelling import make_annotate_app
from arena_tui.cli.running import make_watch_app
from arena_tui.common.safe import inert
from arena_tui.watch.widgets.live_transcript import LiveTranscript
from tests.screen_text import screen_text
from tests.tui.test_annotate_tui import build_store, run_async, settle
from tests.tui.test_watch import wait_until

# Zero-width space, zero-width joiner, right-to-left override, left-to-right isolate,
# a tag character (text hidden from the reader) and a byte-order mark.
INVISIBLE = "\u200b\u200d\u202e\u2066\U000e0041\ufeff"
ATTACKER = f"att{INVISIBLE}acker"
DEFENDER = "def\u200bender\u202e"
REPLY = f"Sure{INVISIBLE}:\n```python\nimport os\nos.system('ls')  # \u202eevil\n```\n"


def raw_invisible(text: str) -> list[str]:
    """The format characters (category Cf) in `text`: none may reach the terminal."""
    return [f"U+{ord(ch):04X}" for ch in text if unicodedata.category(ch) == "Cf"]


def test_inert_shows_every_format_character() -> None:
    """Each invisible character becomes its code point; ordinary accents, CJK and emoji stay."""
    assert inert(f"a{INVISIBLE}b") == "a<U+200B><U+200D><U+202E><U+2066><U+E0041><U+FEFF>b"
    assert inert("soft\u00adhyphen \u2028") == "soft<U+00AD>hyphen <U+2028>"
    assert inert("café 日本 👍") == "café 日本 👍"


@run_async
async def test_annotate_screen_shows_invisible_characters(tmp_path: Path) -> None:
    """Bot names and a transcript full of invisible characters: the annotate screen shows them as `<U+…>`."""
    path = tmp_path / "arena.db"
    build_store(path, [REPLY], attacks=[f"hi{INVISIBLE}"], attacker=ATTACKER, defender=DEFENDER)
    app = make_annotate_app(path, "alice")
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(app, pilot)
        screen = screen_text(app)
    assert raw_invisible(screen) == []
    assert "att<U+200B><U+200D><U+202E>" in screen and "Sure<U+200B>" in screen


@run_async
async def test_watch_screen_shows_invisible_characters(tmp_path: Path) -> None:
    """Following a store whose bots and turns carry invisible characters: grid, standings,
    health and transcript show them as `<U+…>`."""
    path = tmp_path / "arena.db"
    build_store(path, [REPLY], attacks=[f"hi{INVISIBLE}"], attacker=ATTACKER, defender=DEFENDER)
    app = make_watch_app(None, path, follow=True)
    async with app.run_test(size=(200, 50)) as pilot:
        screen = app.screen
        await wait_until(pilot, lambda: len(screen.query_one(LiveTranscript).turns) == 2, "the transcript")
        await pilot.pause(0.3)
        shown = screen_text(app)
    assert raw_invisible(shown) == []
    assert "<U+202E>" in shown and "Sure<U+200B>" in shown


def test_cli_output_shows_invisible_characters(tmp_path: Path) -> None:
    """`report` printed to the terminal shows the invisible characters of names escaped as
    in the markdown file (`\\u200b`), and a one-line error naming the teams shows them as
    `<U+…>`."""
    path = tmp_path / "arena.db"
    build_store(path, [REPLY], name=f"t{INVISIBLE}", attacker=ATTACKER, defender=DEFENDER)
    report = CliRunner().invoke(main, ["report", "--db", str(path), "--resamples", "100"])
    assert report.exit_code == 0, report.output
    assert raw_invisible(report.output) == [] and "t\\u200b" in report.output
    error = CliRunner().invoke(main, ["feedback", "--db", str(path), "--team", "nobody", "-o", str(tmp_path / "fb")])
    assert error.exit_code == 2
    assert raw_invisible(error.output) == [] and "att<U+200B>" in error.output
