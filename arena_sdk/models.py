"""Models a bot can talk to: the `ChatModel` protocol strategies and guards use.

Anything with an ``async complete(messages, *, seed, max_tokens, temperature) -> str``
method is a chat model (a local llama.cpp binding, a test double, an HTTP client).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

__all__ = ["ChatModel"]


@runtime_checkable
class ChatModel(Protocol):
    """A chat-completions model: ``messages`` are ``{"role": "system"|"user"|"assistant",
    "content"}``; returns the assistant's text. ``seed`` makes sampling reproducible on
    servers that honour it."""

    async def complete(self, messages: list[dict[str, str]], *, seed: int, max_tokens: int = 512,
                       temperature: float = 0.7) -> str: ...
