"""A hosted (`python = ...`) bot whose replies hold a lone surrogate, as a Python string
can ("\\ud800" is a str, but no character and not encodable as UTF-8)."""


class SurrogateBot:
    def respond(self, request):
        return f"hosted \ud800 reply {request.turn}"
