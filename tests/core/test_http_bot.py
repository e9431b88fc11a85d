"""HTTP bots against a local OpenAI-compatible server started by the test on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from core.store import Store
from core.tournament.config import load_config
from core.tournament.orchestrator import run_tournament


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
