"""The Corefile: server blocks of directives, as CoreDNS's caddyfile parser reads them."""
from __future__ import annotations

import shlex
from dataclasses import dataclass, field


class CorefileError(Exception):
    pass


@dataclass
class Directive:
    name: str
    args: list[str]
    block: list["Directive"] = field(default_factory=list)

    def sub(self, name: str) -> "Directive | None":
        return next((d for d in self.block if d.name == name), None)


@dataclass
class ServerBlock:
    zones: list[str]
    port: int
    directives: list[Directive]

    def get(self, name: str) -> Directive | None:
        return next((d for d in self.directives if d.name == name), None)


KNOWN = {"errors", "health", "ready", "kubernetes", "prometheus", "forward", "cache", "loop", "reload", "loadbalance",
         "log", "hosts", "rewrite", "whoami", "debug", "bind", "template", "file", "autopath", "k8s_external"}


def parse(text: str) -> list[ServerBlock]:
    lines = [ln.split("#", 1)[0] for ln in text.splitlines()]
    tokens: list[tuple[int, list[str]]] = []
    for no, ln in enumerate(lines, 1):
        if ln.strip():
            try:
                words = shlex.split(ln.replace("{", " { ").replace("}", " } "))
            except ValueError as err:
                raise CorefileError(f"Corefile:{no} - Error during parsing: {err}") from None
            tokens.append((no, words))
    blocks: list[ServerBlock] = []
    i = 0

    def read_block(i: int, top: bool) -> tuple[list[Directive], int]:
        out: list[Directive] = []
        while i < len(tokens):
            no, words = tokens[i]
            if words == ["}"]:
                return out, i + 1
            opens = words[-1] == "{"
            if opens:
                words = words[:-1]
            if not words:
                raise CorefileError(f"Corefile:{no} - Error during parsing: Unexpected token '{{', expecting directive")
            name, args = words[0], words[1:]
            if top and name not in KNOWN:
                raise CorefileError(f"Corefile:{no} - Error during parsing: Unknown directive '{name}'")
            d = Directive(name, args)
            i += 1
            if opens:
                d.block, i = read_block(i, False)
            out.append(d)
        raise CorefileError("Corefile:%d - Error during parsing: Unexpected EOF" % (tokens[-1][0] if tokens else 0))

    while i < len(tokens):
        no, words = tokens[i]
        if not words or words[-1] != "{":
            raise CorefileError(f"Corefile:{no} - Error during parsing: Unexpected token '{words[0] if words else ''}', expecting '{{'")
        keys = words[:-1]
        zones, port = [], 53
        for key in keys:
            zone, _, p = key.partition(":")
            if p:
                port = int(p)
            zones.append(zone.rstrip(".") + "." if zone not in (".", "") else ".")
        directives, i = read_block(i + 1, True)
        blocks.append(ServerBlock(zones, port, directives))
    if not blocks:
        raise CorefileError("Corefile:1 - Error during parsing: no server blocks")
    return blocks
