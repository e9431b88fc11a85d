"""core.llm.client against local stub servers (real sockets on 127.0.0.1): in-flight bound,
deadline from send, timeouts that hold, retries, streaming, the API key."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from core.llm.client import (
    ChatClient,
    ChatError,
    GenerationSettings,
    RetryPolicy,
    retry_after_seconds,
)
from tests.openai_stub import Answer, OpenAIStub, completion, default_answer, stream

MESSAGES = [{"role": "user", "content": "hi"}]
FAST = RetryPolicy(retries=3, backoff_s=0.01, max_backoff_s=0.05, budget_s=5.0)


def run(coro):  # noqa: ANN001, ANN201
    return asyncio.run(coro)


async def ask(url: str, settings: GenerationSettings | None = None, *, deadline: float = 5.0, retry: RetryPolicy = FAST,
              n: int = 1, max_in_flight: int = 8, **kwargs):  # noqa: ANN003, ANN201
    client = ChatClient(url, max_in_flight=max_in_flight, retry=retry, **kwargs)
    try:
        results = await asyncio.gather(*(client.chat(MESSAGES, settings or GenerationSettings(model="m"), deadline=deadline, seed=i)
                                         for i in range(n)), return_exceptions=True)
    finally:
        await client.close()
    return results if n > 1 else results[0]


def test_max_in_flight_bounds_requests_and_the_deadline_runs_from_send() -> None:
    """20 requests, 4 slots, 0.3 s each: never more than 4 at the server, and none times
    out with a 0.6 s deadline though the last waits ~1.2 s for its slot."""
    with OpenAIStub(delay=0.3) as stub:
        started = time.perf_counter()
        results = run(ask(stub.url, n=20, max_in_flight=4, deadline=0.6))
        elapsed = time.perf_counter() - started
    assert all(not isinstance(r, BaseException) for r in results), results
    assert stub.peak == 4 and stub.count == 20
    assert elapsed >= 1.5  # 5 waves of 0.3 s
    assert all(r.latency < 0.6 for r in results)


def test_a_trickling_server_is_cut_off_by_the_deadline() -> None:
    """Slowloris: a 2 kB body one byte every 0.05 s would take 100 s."""
    trickle = completion("x" * 2000)
    trickle.trickle_s = 0.05
    with OpenAIStub(lambda p, n: trickle) as stub:
        started = time.perf_counter()
        result = run(ask(stub.url, deadline=0.5))
        elapsed = time.perf_counter() - started
    assert isinstance(result, ChatError) and result.reason == "timeout"
    assert elapsed < 2.0 and stub.count == 1  # a timeout is not retried


def test_a_server_that_stalls_mid_body_times_out_and_one_that_drops_is_retried() -> None:
    stall = completion("y" * 300)
    stall.cut_at, stall.hang = 40, True
    with OpenAIStub(lambda p, n: stall) as stub:
        started = time.perf_counter()
        result = run(ask(stub.url, deadline=0.4))
        assert isinstance(result, ChatError) and result.reason == "timeout" and time.perf_counter() - started < 2.0
    drop = completion("z" * 300)
    drop.cut_at = 40
    with OpenAIStub(lambda p, n: drop if n < 2 else completion("fine")) as stub:
        retries: list[tuple[str, str, float]] = []
        result = run(ask(stub.url, on_retry=lambda *a: retries.append(a)))
    assert result.text == "fine" and result.attempts == 3 and stub.count == 3
    assert [r[0] for r in retries] == ["refused", "refused"] and "dropped" in retries[0][1]


def test_429_is_retried_after_retry_after() -> None:
    limited = Answer(status=429, headers={"Retry-After": "0.3"}, body=b'{"error": "slow down"}')
    with OpenAIStub(lambda p, n: limited if n < 2 else completion("ok")) as stub:
        retries: list[tuple[str, str, float]] = []
        started = time.perf_counter()
        result = run(ask(stub.url, on_retry=lambda *a: retries.append(a)))
        elapsed = time.perf_counter() - started
    assert result.text == "ok" and result.attempts == 3
    assert [r[0] for r in retries] == ["rate_limited"] * 2 and all(r[2] >= 0.3 for r in retries)
    assert elapsed >= 0.6 and "HTTP 429" in retries[0][1]


def test_final_failures_say_which() -> None:
    with OpenAIStub(lambda p, n: Answer(status=503, body=b"overloaded")) as stub:
        result = run(ask(stub.url))
        assert isinstance(result, ChatError) and result.reason == "server_error" and stub.count == 4
        assert "HTTP 503: overloaded" in result.detail and "after 4 attempts" in result.detail
    far = Answer(status=429, headers={"Retry-After": "100"})
    with OpenAIStub(lambda p, n: far) as stub:
        started = time.perf_counter()
        result = run(ask(stub.url))
        assert isinstance(result, ChatError) and result.reason == "rate_limited" and "retry budget" in result.detail
        assert time.perf_counter() - started < 2.0 and stub.count == 1
    with OpenAIStub(lambda p, n: Answer(status=400, body=b'{"error": "bad model"}')) as stub:
        result = run(ask(stub.url))
        assert isinstance(result, ChatError) and result.reason == "client_error" and stub.count == 1
    with OpenAIStub(lambda p, n: Answer(body=b"<html>not json</html>")) as stub:
        result = run(ask(stub.url))
        assert isinstance(result, ChatError) and result.reason == "protocol_error"
    with OpenAIStub() as stub:
        url = stub.url
    result = run(ask(url))  # nothing listens there any more
    assert isinstance(result, ChatError) and result.reason == "refused"


def test_streaming_reports_partials_usage_and_finish_reason() -> None:
    partials: list[str] = []
    with OpenAIStub(lambda p, n: stream(["Hel", "lo ", "world"], finish_reason="length", gap=0.02)) as stub:
        result = run(_ask_partial(stub.url, partials))
    assert result.text == "Hello world" and result.finish_reason == "length" and result.truncated
    assert partials == ["Hel", "Hello ", "Hello world"]
    assert (result.prompt_tokens, result.completion_tokens) == (7, 3)
    assert stub.requests[0]["stream"] is True and stub.requests[0]["stream_options"] == {"include_usage": True}


async def _ask_partial(url: str, partials: list[str]):  # noqa: ANN202
    client = ChatClient(url, retry=FAST)
    try:
        return await client.chat(MESSAGES, GenerationSettings(model="m", stream=True), deadline=5, on_partial=partials.append)
    finally:
        await client.close()


def test_a_stream_cut_short_is_a_dropped_connection() -> None:
    answer = stream(["a", "b"])
    answer.chunks = answer.chunks[:2]  # no finish, no [DONE]
    with OpenAIStub(lambda p, n: answer) as stub:
        result = run(ask(stub.url, GenerationSettings(model="m", stream=True), retry=RetryPolicy(retries=0)))
    assert isinstance(result, ChatError) and result.reason == "refused"
    # A server that gives a request up mid-stream (llama.cpp's, when another request
    # arrives) sends [DONE] without a finish_reason: cut short too, and retried.
    interrupted = stream(["a"])
    interrupted.chunks = interrupted.chunks[:2] + interrupted.chunks[-1:]
    with OpenAIStub(lambda p, n: interrupted if n == 0 else stream(["whole"])) as stub:
        result = run(ask(stub.url, GenerationSettings(model="m", stream=True)))
    assert result.text == "whole" and result.attempts == 2


def test_generation_settings_and_seed_are_sent() -> None:
    settings = GenerationSettings(model="m1", temperature=0.2, top_p=0.9, max_tokens=64, stop=("###",), extra={"top_k": 5})
    with OpenAIStub() as stub:
        result = run(ask(stub.url, settings))
    body = stub.requests[0]
    assert body == {"model": "m1", "messages": MESSAGES, "temperature": 0.2, "top_p": 0.9, "max_tokens": 64,
                    "stop": ["###"], "seed": 0, "top_k": 5}
    assert result.text == "reply seed=0 messages=1" and result.finish_reason == "stop" and result.prompt_tokens == 7


def test_the_api_key_goes_only_into_the_authorization_header(monkeypatch: pytest.MonkeyPatch) -> None:
    key = "sk-very-secret-0123456789"
    monkeypatch.setenv("STUB_KEY", key)
    echo = Answer(status=401, body=json.dumps({"error": f"bad key {key}"}).encode())
    with OpenAIStub(lambda p, n: echo if n == 0 else default_answer(p, n)) as stub:
        client = ChatClient(stub.url, api_key_env="STUB_KEY", retry=FAST)

        async def go():  # noqa: ANN202
            try:
                failed = None
                try:
                    await client.chat(MESSAGES, GenerationSettings(model="m"), deadline=5)
                except ChatError as exc:
                    failed = exc
                return failed, await client.chat(MESSAGES, GenerationSettings(model="m"), deadline=5)
            finally:
                await client.close()

        failed, ok = run(go())
    assert stub.headers[0]["authorization"] == f"Bearer {key}"
    assert failed is not None and key not in str(failed) and "***" in failed.detail
    assert key not in repr(client) and key not in repr(ok)
    assert not any(key in json.dumps(r) for r in stub.requests)


def test_retry_after_forms() -> None:
    assert retry_after_seconds("2") == 2.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None
    assert RetryPolicy(backoff_s=1, max_backoff_s=4).delay(5, None, __import__("random").Random(1)) <= 4
