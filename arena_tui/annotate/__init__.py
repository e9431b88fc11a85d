"""`arena-tui annotate`: the app, its workbench screen, the command palette (`palette`),
messages, modal screens (`screens/`) and widgets (`widgets/`)."""
