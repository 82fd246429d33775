"""A bug in the app must not reach the user as a traceback (Textual prints one, with
locals, when an exception escapes). The traceback goes to a crash log in netlab's data
directory instead, and the terminal gets one line naming the error and the log."""
from __future__ import annotations

import os
import time
import traceback


class OneLineCrash:
    """Mixin for a textual.App: replaces Textual's fatal-error traceback."""

    def _fatal_error(self) -> None:  # Textual's hook for an unhandled exception (textual==8.2.8)
        from netlab.levels.progress import data_dir

        error = self._exception
        where = os.path.join(data_dir(), "crash.log")
        try:
            os.makedirs(os.path.dirname(where), exist_ok=True)
            with open(where, "a", encoding="utf-8") as fh:
                fh.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
                fh.write("".join(traceback.format_exception(error)) if error else "(no exception)\n")
        except OSError:
            where = None
        name = type(error).__name__ if error else "error"
        detail = f" (details in {where})" if where else ""
        self.bell()
        self._exit_renderables.append(f"netlab: internal error: {name}: {error}{detail}")
        self._close_messages_no_wait()
