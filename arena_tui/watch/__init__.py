"""`arena-tui watch`: the app, its one screen, the model the screen renders (`model`),
the reporter that turns a run here into messages (`reporter`), messages and widgets."""
