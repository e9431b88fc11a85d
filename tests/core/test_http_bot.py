"""HTTP bots against a local OpenAI-compatible server started by the test on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from core.data.export import ExportFilters, export_conversations
from core.data.report import build_report, to_markdown
from core.store import StartOp, Store, TurnOp
from core.tournament.config import load_config
from core.tournament.orchestrator import StoreWriter, _prepare, run_tournament
from core.tournament.reporter import NullReporter
from tests.conftest import bot_table
from tests.openai_stub import Answer, OpenAIStub, completion, stream


class FakeOpenAI(BaseHTTPRequestHandler):
    """Answers /v1/models and /v1/chat/completions deterministically; records requests."""

    requests: list[dict] = []

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, code: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        self._send(200, {"data": [{"id": "fake"}]})

    def do_POST(self) -> None:  # noqa: N802 - http.server API
        payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        payload["_auth"] = self.headers.get("Authorization")
        FakeOpenAI.requests.append(payload)
        system = payload["messages"][0]["content"]
        turns = len(payload["messages"])
        if "ATTACKER" in system:
            content = "<END>" if turns > 4 else f"attack #{turns} seed {payload['seed']}"
        elif "BROKEN" in system:
            self._send(500, {"error": "model exploded"})
            return
        else:
            content = f"defence to: {payload['messages'][-1]['content']}"
        self._send(200, {"choices": [{"message": {"role": "assistant", "content": content}}]})


@pytest.fixture
def server():
    FakeOpenAI.requests = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FakeOpenAI)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()


def test_http_bots_play_a_tournament(server: str, write_config, tmp_path: Path, monkeypatch) -> None:
    """Roles are mapped from each bot's own side, the system prompt goes first, the attacker
    ends with the end marker, the API key comes from the named environment variable."""
    monkeypatch.setenv("FAKE_KEY", "sk-test")
    config = load_config(write_config(f"""
        name = "http"
        conversations_per_matchup = 2
        max_pairs = 5
        [[attackers]]
        name = "att"
        http = {{ url = "{server}", model = "fake", system_prompt = "ATTACKER", api_key_env = "FAKE_KEY" }}
        [[defenders]]
        name = "def"
        http = {{ url = "{server}", model = "fake", system_prompt = "be safe", max_tokens = 50 }}
        [[defenders]]
        name = "broken"
        http = {{ url = "{server}", model = "fake", system_prompt = "BROKEN", retries = 2, retry_backoff_s = 0.01 }}
    """))
    with Store.open(tmp_path / "h.db") as store:
        summary = asyncio.run(run_tournament(config, store))
        tid = store.tournament("http").id
        convs = {(c.defender, c.idx): c for c in store.conversations(tid)}
        good = convs[("def", 0)]
        turns = store.turns(good.id)
    assert good.status == "complete" and good.ended_by == "attacker"
    assert [t.role for t in turns] == ["attacker", "defender", "attacker", "defender"]
    assert turns[1].content == f"defence to: {turns[0].content}"
    # A 5xx is retried (counted in bot health), then the conversation is incomplete: server_error.
    assert convs[("broken", 0)].reason == "server_error" and "HTTP 500" in convs[("broken", 0)].detail
    assert "after 3 attempts" in convs[("broken", 0)].detail and summary.bots["broken"].retries == 4
    assert summary.complete == 2 and summary.incomplete == 2
    attacker_requests = [r for r in FakeOpenAI.requests if r["messages"][0]["content"] == "ATTACKER"]
    first = attacker_requests[0]
    assert [m["role"] for m in first["messages"]] == ["system", "user"]
    assert first["_auth"] == "Bearer sk-test"
    later = next(r for r in attacker_requests if len(r["messages"]) == 4)
    assert [m["role"] for m in later["messages"]] == ["system", "user", "assistant", "user"]
    assert later["messages"][2]["content"].startswith("attack #")
    defender_request = next(r for r in FakeOpenAI.requests if r["messages"][0]["content"] == "be safe")
    assert [m["role"] for m in defender_request["messages"]] == ["system", "user"]
    assert defender_request["max_tokens"] == 50 and defender_request["_auth"] is None


def test_unreachable_http_bot(write_config, tmp_path: Path) -> None:
    """A server that is not there makes the bot unavailable, not the run crash."""
    config = load_config(write_config("""
        name = "down"
        conversations_per_matchup = 1
        [[attackers]]
        name = "att"
        http = { url = "http://127.0.0.1:9/v1", model = "m" }
        [[defenders]]
        name = "def"
        http = { url = "http://127.0.0.1:9/v1", model = "m" }
    """))
    with Store.open(tmp_path / "d.db") as store:
        summary = asyncio.run(run_tournament(config, store))
    assert summary.incomplete == 1 and summary.incomplete_reasons == {"bot_unavailable": 1}


# --- streaming, usage, truncation, secrets, budgets (tests/openai_stub.py) ----------------


class Partials(NullReporter):
    def __init__(self) -> None:
        self.partials: dict[tuple[int, int], list[str]] = {}
        self.turns: dict[tuple[int, int], str] = {}

    def partial(self, conv, turn_index, content) -> None:  # noqa: ANN001
        self.partials.setdefault((conv.id, turn_index), []).append(content)

    def turn(self, conv, turn_index, role, content, latency) -> None:  # noqa: ANN001
        self.turns[(conv.id, turn_index)] = content


def llm_behaviour(payload: dict, n: int) -> Answer:
    """The attacker streams three words and ends on its third turn with the end marker;
    the defender streams its answer, cut at max_tokens (finish_reason length) when asked
    for fewer than 4 tokens."""
    system = payload["messages"][0]["content"]
    turns = len(payload["messages"])
    if "ATTACKER" in system:
        words = ["please", "write", f"code{payload['seed'] % 97}"] + (["<END>"] if turns > 4 else [])
        return stream([w + " " for w in words], prompt_tokens=turns * 10)
    cut = payload.get("max_tokens", 100) < 4
    return stream(["sure", " here", " it is"], finish_reason="length" if cut else "stop", prompt_tokens=turns * 10, gap=0.02)


def test_streamed_llm_bots_store_usage_truncation_and_never_the_key(write_config, tmp_path: Path, monkeypatch) -> None:
    """Partials reach the reporter as the text so far, every turn keeps its usage and
    finish_reason, a cut reply is marked in the export, an attacker ending with the end
    marker ends the conversation after that turn; the API key reaches the server's
    Authorization header and nothing else: not the store, the logs, the export."""
    key = "sk-arena-test-5f2e9d0c1b"
    monkeypatch.setenv("LLM_KEY", key)
    with OpenAIStub(llm_behaviour) as stub:
        config = load_config(write_config(f"""
            name = "llm"
            conversations_per_matchup = 2
            max_pairs = 4
            concurrency = 4
            [[attackers]]
            name = "att"
            max_in_flight = 2
            [attackers.http]
            url = "{stub.url}"
            model = "m"
            system_prompt = "ATTACKER"
            goal = "get a keylogger"
            api_key_env = "LLM_KEY"
            stream = true
            temperature = 0.0
            top_p = 0.5
            stop = ["###"]
            [[defenders]]
            name = "cut"
            [defenders.http]
            url = "{stub.url}"
            model = "m"
            system_prompt = "be safe"
            max_tokens = 3
            stream = true
            api_key_env = "LLM_KEY"
            extra = {{ top_k = 4 }}
        """))
        reporter = Partials()
        with Store.open(tmp_path / "l.db") as store:
            summary = asyncio.run(run_tournament(config, store, reporter))
            tid = store.tournament("llm").id
            conv = store.conversations(tid)[0]
            turns = store.turns(conv.id)
            usage = {u.bot: u for u in store.token_usage([tid])}
            export_conversations(store, [tid], ExportFilters.parse([], include_undecided=True), tmp_path / "out.jsonl")
            report = to_markdown(build_report(store, [tid], resamples=100))
    assert conv.status == "complete" and conv.ended_by == "attacker" and len(turns) == 5  # 3 attacker + 2 defender
    assert turns[-1].content == f"please write code{(conv.seed + 4) % (1 << 31) % 97}"  # the marker is not stored
    assert [t.finish_reason for t in turns] == ["stop", "length", "stop", "length", "stop"]
    assert turns[1].truncated and (turns[1].prompt_tokens, turns[1].completion_tokens) == (20, 3)
    assert reporter.partials[(conv.id, 1)] == ["sure", "sure here", "sure here it is"]
    assert reporter.turns[(conv.id, 1)] == "sure here it is"
    assert summary.bots["cut"].completion_tokens == 3 * 4 and summary.bots["cut"].prompt_tokens == (20 + 40) * 2
    assert usage["cut"].truncated == 4 and usage["cut"].tokens == summary.bots["cut"].tokens
    assert usage["att"].replies == 6 and usage["att"].replies_with_usage == 6
    assert "## Tokens per bot" in report and "| llm | cut | defender | 4 | 4 | 120 | 12 | 4 |" in report
    system = stub.requests[0]["messages"][0]["content"]
    assert system.startswith("ATTACKER") and "get a keylogger" in system and "<END>" in system
    attacker_body = next(r for r in stub.requests if r["messages"][0]["content"].startswith("ATTACKER"))
    assert (attacker_body["temperature"], attacker_body["top_p"], attacker_body["stop"]) == (0.0, 0.5, ["###"])
    defender_body = next(r for r in stub.requests if r["messages"][0]["content"] == "be safe")
    assert defender_body["top_k"] == 4
    assert all(h["authorization"] == f"Bearer {key}" for h in stub.headers)
    exported = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert all(record["truncated_turns"] == [2, 4] for record in exported)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert key.encode() not in path.read_bytes(), path


def test_a_spent_token_budget_leaves_conversations_pending_for_resume(write_config, tmp_path: Path) -> None:
    """Once a bot has spent its budget no new conversation of it starts; the run is
    stopped, not failed, and --resume with a larger budget plays the rest."""
    def body(budget: int) -> str:
        return f"""
            name = "budget"
            conversations_per_matchup = 6
            max_pairs = 1
            concurrency = 1
            [[attackers]]
            name = "att"
            http = {{ url = "{stub.url}", model = "m", system_prompt = "ATTACKER" }}
            [[defenders]]
            name = "def"
            token_budget = {budget}
            http = {{ url = "{stub.url}", model = "m", system_prompt = "be safe" }}
        """
    with OpenAIStub(lambda p, n: completion("ok ok", prompt_tokens=10, completion_tokens=2)) as stub:
        with Store.open(tmp_path / "b.db") as store:
            first = asyncio.run(run_tournament(load_config(write_config(body(30))), store))
            assert first.budget_spent == ("def",) and first.complete == 3 and first.pending == 3
            assert store.tournament("budget").status == "stopped"
            again = asyncio.run(run_tournament(load_config(write_config(body(30))), store, resume=True))
            assert again.played_now == 0 and again.pending == 3  # still spent: counted from the store
            last = asyncio.run(run_tournament(load_config(write_config(body(1000))), store, resume=True))
            assert last.complete == 6 and last.pending == 0 and store.tournament("budget").status == "finished"


def test_process_bots_may_report_usage(write_config, tmp_path: Path) -> None:
    """The optional `usage` and `finish_reason` of a protocol reply are stored with the
    turn; malformed ones are dropped, the reply kept."""
    config = load_config(write_config('name = "u"\nconversations_per_matchup = 1\nmax_pairs = 3\n'
                                      + bot_table("attacker", "a", "usage_bot.py") + bot_table("defender", "d", "usage_bot.py")))
    with Store.open(tmp_path / "u.db") as store:
        summary = asyncio.run(run_tournament(config, store))
        tid = store.tournament("u").id
        turns = store.turns(store.conversations(tid)[0].id)
    assert [t.finish_reason for t in turns] == ["stop", "stop", "length", "stop", "stop", None]
    assert [t.completion_tokens for t in turns] == [4, 4, 4, 4, 4, None]
    assert [t.prompt_tokens for t in turns[:3]] == [0, 4, 8] and turns[5].prompt_tokens is None
    assert turns[5].content == "reply 5 to defender"
    assert summary.bots["a"].completion_tokens == 12 and summary.bots["d"].completion_tokens == 8


def test_store_writes_do_not_wait_for_the_default_thread_pool(write_config, tmp_path: Path) -> None:
    """The store writer has a thread of its own: with every thread of the default pool
    blocked (as a pool of blocking HTTP calls once did), a flush still writes."""
    config = load_config(write_config('name = "w"\nconversations_per_matchup = 1\n'
                                      + bot_table("attacker", "a", "good_bot.py") + bot_table("defender", "d", "good_bot.py")))
    with Store.open(tmp_path / "w.db") as store:
        tid, _ = _prepare(config, store, False, False)
        conv = store.conversations(tid)[0]

        async def go() -> int:
            loop = asyncio.get_running_loop()
            release = threading.Event()
            blockers = [loop.run_in_executor(None, release.wait) for _ in range(64)]
            writer = StoreWriter(store)
            writer.add(StartOp(conv.id, tid, 1.0))
            writer.add(TurnOp(conv.id, 0, "attacker", "hello", 0.1, 1.0, 3, 4, "stop"))
            try:
                await asyncio.wait_for(writer.close(), 30)  # a guard against a hang, not a timing
                return len(store.turns(conv.id))
            finally:
                release.set()
                await asyncio.gather(*blockers)

        assert asyncio.run(go()) == 1
        assert store.turns(conv.id)[0].completion_tokens == 4
