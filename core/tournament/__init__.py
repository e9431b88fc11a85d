"""Playing a tournament: the config (`config`), the bot clients and their process host
(`bots`, `bothost`, `botkeeper`), the orchestrator that schedules conversations and
writes them to the store (`orchestrator`), the reporter protocol through which a display
follows a run (`reporter`), and the sandbox that runs a bot's code against unit tests for
the utility sets (`sandbox`, and its child program `sandbox_child`)."""
