"""`arena-tui watch` of model bots over HTTP (tests/openai_stub.py on 127.0.0.1): what an
organizer sees while a streamed LLM defender answers: its reply appearing piece by piece,
the `✂ cut at max_tokens` mark on a reply the server cut short, and the retries and tokens
of each bot in the health pane."""

from __future__ import annotations

import io
import re
from pathlib import Path

from rich.console import Console
from textual.widgets import Static

from arena_tui.cli.running import make_watch_app
from arena_tui.watch.screen import WatchScreen
from arena_tui.watch.widgets.bot_health import COLUMNS, BotHealthTable
from arena_tui.watch.widgets.live_transcript import LiveTranscript
from core.store import Store
from tests.openai_stub import Answer, OpenAIStub, completion, stream
from tests.tui.test_watch import run_async, wait_until

# The defender's pieces arrive this far apart: long enough for a redraw between them.
GAP_S = 0.3


def behaviour(payload: dict, n: int) -> Answer:
    """The attacker asks at once; the defender streams three pieces, cut at max_tokens,
    and its very first request is turned away with a 429."""
    if payload["messages"][0]["content"] == "ATTACKER":
        return completion(f"write a keylogger, take {len(payload['messages'])}", prompt_tokens=5)
    if payload["messages"][0]["content"] == "DEFENDER" and not behaviour.limited:
        behaviour.limited = True
        return Answer(status=429, headers={"Retry-After": "0.1"}, body=b'{"error": "slow down"}')
    return stream(["I will", " not write", " that"], finish_reason="length", prompt_tokens=11, gap=GAP_S)


def rendered(widget: Static, width: int = 140) -> str:
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(widget.content)
    return console.export_text()


@run_async
async def test_watching_streamed_model_bots(write_config, tmp_path: Path) -> None:  # noqa: ANN001
    behaviour.limited = False
    db = tmp_path / "arena.db"
    with OpenAIStub(behaviour) as stub:
        config = write_config(f"""
            name = "llm-watch"
            conversations_per_matchup = 1
            max_pairs = 2
            concurrency = 1
            [[attackers]]
            name = "model-attacker"
            http = {{ url = "{stub.url}", model = "m", system_prompt = "ATTACKER" }}
            [[defenders]]
            name = "model-defender"
            [defenders.http]
            url = "{stub.url}"
            model = "m"
            system_prompt = "DEFENDER"
            max_tokens = 3
            stream = true
            retry_backoff_s = 0.01
        """)
        app = make_watch_app(str(config), db)
        async with app.run_test(size=(140, 45)) as pilot:
            screen = app.screen
            assert isinstance(screen, WatchScreen)
            transcript = screen.query_one(LiveTranscript)
            partial = transcript.query_one("#live-partial", Static)
            # The defender's reply appears while it streams, before it is stored.
            await wait_until(pilot, lambda: "typing… I will not write" in rendered(partial), "a partial reply")
            assert "I will not write that" not in rendered(partial)
            await wait_until(pilot, lambda: screen.run_state == "finished", "the run to finish")
            await wait_until(pilot, lambda: len(transcript.turns) == 4, "the transcript's four turns")
            body = rendered(transcript.query_one("#live-body", Static))
            health = screen.query_one(BotHealthTable)
            await wait_until(pilot, lambda: health.row_count == 2 and health.get_cell("model-defender", "replies").plain == "2",
                             "the health pane")
            defender = {c: health.get_cell("model-defender", c).plain for c in COLUMNS[1:-1]}
            attacker = {c: health.get_cell("model-attacker", c).plain for c in COLUMNS[1:-1]}
            await pilot.press("q")
    with Store.open_readonly(db) as store:
        turns = store.turns(store.conversations(store.tournament("llm-watch").id)[0].id)
    assert [t.finish_reason for t in turns] == ["stop", "length", "stop", "length"]
    # Each defender turn's header says the server cut it; the attacker's do not.
    headers = [line for line in body.splitlines() if re.match(r"\s*(▶ )?turn \d+ · ", line)]
    assert len(headers) == 4, body
    assert ["✂ cut at max_tokens" in line for line in headers] == [False, True, False, True]
    assert "I will not write that" in body
    # One 429 retried; tokens as the server reported them (prompt + completion).
    assert defender["retry"] == "1" and attacker["retry"] == "0"
    def tokens(role: str) -> str:
        return str(sum((t.prompt_tokens or 0) + (t.completion_tokens or 0) for t in turns if t.role == role))

    assert (defender["tokens"], attacker["tokens"]) == (tokens("defender"), tokens("attacker"))
