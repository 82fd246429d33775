"""Command-line tools with real syntax and real output formats.

One small module per tool family registers its commands (`registry.command`);
`Session.run` parses a line (pipes, `;`, `&&`, `||`, `>`), finds the context it runs
in (admin workstation, a node, a pod) and calls the tools.
"""
