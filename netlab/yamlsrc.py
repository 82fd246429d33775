"""YAML documents that remember where each value came from, so an error can name
the file, the line and the field."""
from __future__ import annotations

from dataclasses import dataclass

import yaml

try:  # the C composer is several times faster where libyaml is present
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _Loader


class SourceError(Exception):
    """One clear line: `FILE:LINE: where: problem`."""

    def __init__(self, source: str, line: int | None, problem: str):
        self.source, self.line, self.problem = source, line, problem
        where = f"{source}:{line}" if line else source
        super().__init__(f"{where}: {problem}")


@dataclass
class Doc:
    """One YAML document: plain Python data plus the line of every path in it."""

    data: object
    lines: dict[str, int]
    source: str
    start_line: int

    def line(self, path: str) -> int:
        # The closest recorded ancestor of `path` (a missing key points at its parent).
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path.rsplit(".", 1)[0] if "." in path else ""
        return self.start_line

    def error(self, path: str, problem: str) -> SourceError:
        return SourceError(self.source, self.line(path), f"{path}: {problem}" if path else problem)


def _convert(node, path: str, lines: dict[str, int]):
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out = {}
        for key_node, value_node in node.value:
            key = _Loader.construct_object(_loader_for(key_node), key_node) if not isinstance(key_node, yaml.ScalarNode) else key_node.value
            sub = f"{path}.{key}" if path else str(key)
            lines[sub] = key_node.start_mark.line + 1
            out[key] = _convert(value_node, sub, lines)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, f"{path}[{i}]", lines) for i, item in enumerate(node.value)]
    return _scalar(node)


_scalar_loader = None


def _loader_for(node):
    global _scalar_loader
    if _scalar_loader is None:
        _scalar_loader = _Loader("")
    return _scalar_loader


def _scalar(node):
    return _loader_for(node).construct_object(node, deep=True)


def load_documents(text: str, source: str) -> list[Doc]:
    """Parse every document of a YAML stream, or raise SourceError naming the line."""
    try:
        nodes = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark else None
        raise SourceError(source, line, f"invalid YAML: {err.problem or err.context}") from None
    except yaml.YAMLError as err:
        raise SourceError(source, None, f"invalid YAML: {err}") from None
    docs = []
    for node in nodes:
        if node is None:
            continue
        lines: dict[str, int] = {}
        try:
            data = _convert(node, "", lines)
        except yaml.YAMLError as err:
            raise SourceError(source, node.start_mark.line + 1, f"invalid YAML: {err}") from None
        if data is None:
            continue
        docs.append(Doc(data, lines, source, node.start_mark.line + 1))
    return docs
