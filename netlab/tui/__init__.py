"""The Textual app. Nothing below this package knows a terminal exists; this package talks
to a Lab (and the level and save APIs) and never to the tables underneath."""
