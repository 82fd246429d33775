"""Limits that keep one trainee from hurting the others. Each has a default and a
`netlab serve` flag; the server enforces the per-connection ones, each session process
the per-command ones (netlab.serve.guard)."""
from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Limits:
    cpu_per_command: float = 5.0  # seconds of CPU one shell line may use (--cpu-per-command)
    max_output: int = 256 * 1024  # bytes of output one shell line may print (--max-output)
    burst: int = 30  # shell lines in any 10 seconds (--burst)
    sessions_per_user: int = 2  # simultaneous SSH sessions of one user (--sessions-per-user)
    max_sessions: int = 40  # simultaneous SSH sessions in all (--max-sessions)
    login_attempts: int = 5  # failed logins from one address per minute (--login-attempts)
    idle_timeout: float = 1800.0  # seconds without a keystroke before a session is closed (--idle-timeout)

    FLAGS = {
        "cpu_per_command": ("--cpu-per-command", float, "CPU seconds one shell line may use"),
        "max_output": ("--max-output", int, "bytes of output one shell line may print"),
        "burst": ("--burst", int, "shell lines a session may run in any 10 s"),
        "sessions_per_user": ("--sessions-per-user", int, "simultaneous sessions of one user"),
        "max_sessions": ("--max-sessions", int, "simultaneous sessions in all"),
        "login_attempts": ("--login-attempts", int, "failed logins from one address per minute"),
        "idle_timeout": ("--idle-timeout", float, "seconds without input before a session is closed"),
    }

    def pack(self) -> dict:
        return asdict(self)

    @staticmethod
    def unpack(data: dict) -> Limits:
        fields = Limits.__dataclass_fields__
        return Limits(**{k: v for k, v in data.items() if k in fields})


def add_flags(parser) -> None:
    defaults = Limits()
    for name, (flag, kind, text) in Limits.FLAGS.items():
        parser.add_argument(flag, dest=f"limit_{name}", type=kind, default=getattr(defaults, name),
                            metavar="N", help=f"{text} (default {getattr(defaults, name)})")


def from_args(args) -> Limits:
    values = {name: getattr(args, f"limit_{name}") for name in Limits.FLAGS}
    for name, value in values.items():
        if value <= 0:
            raise ValueError(f"{Limits.FLAGS[name][0]} must be positive, not {value}")
    return Limits(**values)
