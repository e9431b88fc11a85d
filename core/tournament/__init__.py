"""Playing a tournament: the config (`config`), the bot clients and their process host
(`bots`, `bothost`, `botkeeper`, `sandbox`), the orchestrator that schedules
conversations and writes them to the store (`orchestrator`), and the reporter protocol
through which a display follows a run (`reporter`)."""
