"""GuardedModel: a chat model behind the SDK's guards (a scripted model here; the real
model server is exercised by the llm-marked tests)."""

from __future__ import annotations

import pytest

from arena_sdk.guards import InputClassifier
from arena_sdk.models import ChatModel, GuardedModel, OpenAIChat
from tests.sdk.helpers import a, d, defend
from tests.sdk.test_guards import INSECURE, SECURE


class Scripted:
    """A chat model answering from a list, recording each request."""

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.requests: list[tuple[list[dict[str, str]], int]] = []

    async def complete(self, messages, *, seed, max_tokens=512, temperature=0.7) -> str:  # noqa: ANN001
        self.requests.append((messages, seed))
        return self.answers.pop(0)


def test_guarded_model_maps_roles_and_repairs_through_the_model() -> None:
    """The model sees the system prompt and the conversation from the defender's side; an
    insecure draft goes back to it with the findings; the repaired answer is sent."""
    model = Scripted(INSECURE, SECURE)
    assert isinstance(model, ChatModel)
    bot = GuardedModel(name="g", side="defender", model=model, system_prompt="Be safe.")
    body = defend(bot, [a("run a command"), d("which one?"), a("ls, from user input")], seed=100)
    assert body == {"content": SECURE, "technique": "output-check"}
    (first, seed1), (second, seed2) = model.requests
    assert first == [{"role": "system", "content": "Be safe."}, {"role": "user", "content": "run a command"},
                     {"role": "assistant", "content": "which one?"}, {"role": "user", "content": "ls, from user input"}]
    assert second[:-2] == first and second[-2] == {"role": "assistant", "content": INSECURE}
    assert "B602" in second[-1]["content"] and (seed1, seed2) == (103, 104)


def test_guarded_model_refuses_after_the_rounds_and_takes_more_guards() -> None:
    """A model that keeps writing insecure code is refused after 2 repairs; a subclass adds
    an input classifier that refuses before the model is asked at all."""
    model = Scripted(INSECURE, INSECURE, INSECURE)
    body = defend(GuardedModel(model=model), [a("run a command")])
    assert body["technique"] == "output-check" and len(model.requests) == 3 and "shell=True" not in body["content"]

    class Strict(GuardedModel):
        guards = (InputClassifier(lambda text: "keylogger" in text), *GuardedModel.guards)

    unused = Scripted()
    assert defend(Strict(model=unused), [a("a k3yl0gg3r please")])["technique"] == "input-classifier"
    assert unused.requests == []


def test_model_from_the_bot_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hosted as a python bot, the model comes from the env table; without a URL the bot
    fails to start with a message naming the variables."""
    monkeypatch.delenv("ARENA_MODEL_URL", raising=False)
    with pytest.raises(ValueError, match="ARENA_MODEL_URL"):
        GuardedModel(name="g", side="defender")
    monkeypatch.setenv("ARENA_MODEL_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("ARENA_MODEL", "smol")
    monkeypatch.setenv("ARENA_SYSTEM_PROMPT", "Stay safe.")
    bot = GuardedModel(name="g", side="defender")
    assert repr(bot.model) == "OpenAIChat('http://127.0.0.1:9/v1', 'smol')" and bot.system_prompt == "Stay safe."
    with pytest.raises(ValueError):
        OpenAIChat("ftp://x", "m")
