"""Reading YAML nodes, which know their line numbers, as simply as plain values."""

from __future__ import annotations

from typing import Any, Iterator, List, Optional, Tuple

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode


def text_of(node: Optional[Node]) -> Optional[str]:
    """The text of a plain value, or None if `node` is a list, a mapping or missing."""
    return node.value if isinstance(node, ScalarNode) else None


def node_line(node: Node) -> int:
    """The line (counting from 1) on which a node starts."""
    return node.start_mark.line + 1


def pairs(node: Optional[Node]) -> List[Tuple[ScalarNode, Node]]:
    """The `key: value` pairs of a mapping whose keys are plain text."""
    if not isinstance(node, MappingNode):
        return []
    return [(key, value) for key, value in node.value if isinstance(key, ScalarNode)]


def items_of(node: Optional[Node]) -> List[Node]:
    """The items of a list, or nothing if `node` is not a list."""
    return list(node.value) if isinstance(node, SequenceNode) else []


def child(node: Optional[Node], key: str) -> Optional[Node]:
    """The value of `key` in a mapping, or None."""
    return next((value for name, value in pairs(node) if name.value == key), None)


def construct(node: Node) -> Any:
    """The Python value of a node, as `yaml.safe_load` would give it."""
    return yaml.SafeLoader("").construct_document(node)


def scalars(node: Node) -> Iterator[ScalarNode]:
    """Every text value inside a node, however deeply nested."""
    if isinstance(node, ScalarNode):
        yield node
    elif isinstance(node, SequenceNode):
        for item in node.value:
            yield from scalars(item)
    elif isinstance(node, MappingNode):
        for _, value in node.value:
            yield from scalars(value)


def repeated_names(node: Node) -> Iterator[Tuple[ScalarNode, int]]:
    """Names written twice in one mapping, anywhere inside `node`, with the first one's line.

    The YAML reader silently keeps only the last of two equal names.
    """
    if isinstance(node, MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            if isinstance(key, ScalarNode) and key.value != "<<":
                if key.value in seen:
                    yield key, seen[key.value]
                else:
                    seen[key.value] = node_line(key)
            yield from repeated_names(value)
    elif isinstance(node, SequenceNode):
        for item in node.value:
            yield from repeated_names(item)
