"""netlab: a terminal lab for Kubernetes networking.

The engine API is :class:`netlab.lab.Lab`; everything else (shell, TUI, levels,
saves, the SSH classroom) talks to a Lab and never around it.
"""
from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["Lab", "Result", "__version__"]


def __getattr__(name: str):
    # Lazy so that `import netlab` stays cheap for the CLI's cold start.
    if name in ("Lab", "Result"):
        from netlab import lab

        return getattr(lab, name)
    raise AttributeError(name)
