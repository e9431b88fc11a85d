"""What both apps share: safe text (`safe`), the one transcript renderer
(`transcript`), the live panes base and the standings pane, pane focus and zoom, the
keys help screen, and `common.tcss`."""
