"""The project's files as the checks read them: YAML with line numbers, and what was found."""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Optional

import yaml
from yaml.nodes import Node, ScalarNode

from staff_tools.check_data.report import Problem, Report
from staff_tools.check_data.yaml_errors import yaml_problem
from staff_tools.check_data.yaml_nodes import node_line, repeated_names

# libyaml's parser, when PyYAML was built with it: the same nodes and line numbers in a tenth
# of the time (the data files hold 19,000 examples; a staff edit checks them twice). A file it
# cannot read is read again by the pure-Python parser, whose error messages `yaml_problem`
# explains.
_FAST_LOADER = getattr(yaml, "CSafeLoader", None)


def _compose(text: str) -> Optional[Node]:
    if _FAST_LOADER is not None:
        try:
            return yaml.compose(text, Loader=_FAST_LOADER)
        except yaml.YAMLError:
            pass
    return yaml.compose(text, Loader=yaml.SafeLoader)


class Project:
    """One project folder being checked: reads its files and collects the report."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.report = Report()
        self._source: Dict[str, List[str]] = {}

    def add(self, path: str, line: int, what: str, fix: str) -> None:
        """Record a problem."""
        self.report.problems.append(Problem(path, line, what, fix))

    def rel(self, path: Path) -> str:
        """A path as staff see it in the project folder."""
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def files(self, pattern: str) -> List[Path]:
        """The project files matching a glob, in a stable order."""
        return sorted(self.root.glob(pattern))

    def source_lines(self, rel: str) -> List[str]:
        """The lines of a file read so far (nothing if it was not read)."""
        return self._source.get(rel, [])

    def read(self, path: Path) -> Optional[Node]:
        """Parse a YAML file into nodes that know their line numbers; report if unreadable."""
        rel = self.rel(path)
        text = self._read_text(path, rel)
        if text is None:
            return None
        self._source[rel] = text.splitlines()
        try:
            node = _compose(text)
        except yaml.MarkedYAMLError as error:
            self.report.problems.append(yaml_problem(rel, error))
            return None
        except yaml.YAMLError as error:
            self.add(rel, 1, f"this file cannot be read: {error}",
                     "compare it with a similar file that works")
            return None
        for key, first_line in repeated_names(node) if node is not None else ():
            self.add(rel, node_line(key),
                     f"'{key.value}' is written twice in the same block (also at line "
                     f"{first_line}); only this second one would be used",
                     "keep one of the two and delete the other, or merge them")
        return node

    def _read_text(self, path: Path, rel: str) -> Optional[str]:
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            self.add(rel, 1, "this file is missing",
                     "restore it from the last working copy (ask a developer)")
        except UnicodeDecodeError:
            self.add(rel, 1, "this file is not plain text (UTF-8)",
                     "save it again as UTF-8 text in your editor")
        return None

    def line_of(self, rel: str, needle: str, node: Node) -> int:
        """The line inside a (possibly multi-line) value where `needle` is written."""
        lines = self.source_lines(rel)
        for index in range(node.start_mark.line, min(node.end_mark.line + 1, len(lines))):
            if needle in lines[index]:
                return index + 1
        # Block text (`>-` or `|`) starts on the line after its marker.
        block = isinstance(node, ScalarNode) and node.style in ("|", ">")
        return node_line(node) + (1 if block else 0)
