"""Talking to language models: an asynchronous client for OpenAI-compatible chat endpoints.

`core.llm.client.ChatClient` is the one place that sends chat completions (HTTP bots,
LLM judges, the team SDK): ``await client.chat(messages, settings, deadline=...)``.
"""
