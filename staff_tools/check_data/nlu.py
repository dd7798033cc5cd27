"""The training examples of data/nlu/, and the labels of the held-out questions."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Optional, Tuple

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from staff_tools.check_data.layout import FAQ_INTENT, HELDOUT_NLU_GLOB, NLU_GLOB
from staff_tools.check_data.project import Project
from staff_tools.check_data.report import Example
from staff_tools.check_data.wording import did_you_mean
from staff_tools.check_data.yaml_nodes import child, items_of, node_line, text_of


@dataclass
class NluData:
    """The intents and FAQ topics of the training data (the examples go to the report)."""

    label_lines: Dict[str, Tuple[str, int]] = field(default_factory=dict)  # its `- intent:`
    # False when an NLU file could not be read: checks that need every example are then
    # skipped, so that one broken file does not bury its own message under false alarms.
    complete: bool = True

    def faq_topics(self) -> Dict[str, Tuple[str, int]]:
        """The FAQ topics with examples (their key, without `faq/`) and where they start."""
        prefix = FAQ_INTENT + "/"
        return {label[len(prefix):]: where for label, where in self.label_lines.items()
                if label.startswith(prefix)}


def read_nlu(project: Project) -> NluData:
    """Collect the examples of every intent and FAQ topic in data/nlu/."""
    nlu = NluData()
    paths = project.files(NLU_GLOB)
    if not paths:
        project.add("data/nlu", 1, "there are no training data files (*.yml) in this folder",
                    "restore data/nlu/ from the last working copy (ask a developer)")
    for path in paths:
        if not _read_nlu_file(project, nlu, path):
            nlu.complete = False
    return nlu


def _read_nlu_file(project: Project, nlu: NluData, path: Path) -> bool:
    """Read one file's blocks; False if the file or its `nlu:` list cannot be read."""
    rel = project.rel(path)
    root = project.read(path)
    if root is None:
        return False
    blocks = child(root, "nlu")
    if not isinstance(blocks, SequenceNode):
        project.add(rel, node_line(blocks or root), "this file has no 'nlu:' list of intents",
                    "start the file with 'version: \"3.1\"' and 'nlu:', then one "
                    "'- intent: name' block per intent, like data/nlu/faq.yml")
        return False
    for block in blocks.value:
        _read_nlu_block(project, nlu, rel, block)
    return True


def _read_nlu_block(project: Project, nlu: NluData, rel: str, block: Node) -> None:
    if not isinstance(block, MappingNode):
        project.add(rel, node_line(block), "this line should start a block '- intent: name'",
                    "indent it under the intent it belongs to, or start it with "
                    "'- intent: '")
        return
    label_node = child(block, "intent")
    if label_node is None:
        if not any(child(block, kind) for kind in ("synonym", "regex", "lookup")):
            project.add(rel, node_line(block), "this block has no 'intent:' name",
                        "start the block with '- intent: ' and the intent or faq/<topic> name")
        return
    label = (text_of(label_node) or "").strip()
    if not label:
        project.add(rel, node_line(label_node), "this intent has no name",
                    "write the name after 'intent: ', e.g. 'intent: faq/cost_insurance'")
        return
    nlu.label_lines.setdefault(label, (rel, node_line(label_node)))
    examples = child(block, "examples")
    if not isinstance(examples, ScalarNode) or not examples.value.strip():
        project.add(rel, node_line(examples or label_node), f"{label} has no examples block",
                    "write 'examples: |' under the intent line, then one example per line "
                    "starting with '- ', indented like the other intents in this file")
        return
    _read_examples(project, rel, label, examples)


def _read_examples(project: Project, rel: str, label: str, block: ScalarNode) -> None:
    lines = project.source_lines(rel)
    cursor = block.start_mark.line
    for raw in block.value.splitlines():
        # Find this line in the file: the block's lines follow each other in order.
        index = next((i for i in range(cursor, min(block.end_mark.line + 1, len(lines)))
                      if lines[i].strip() == raw.strip()), None)
        if index is not None:
            cursor = index + 1
        line = (index if index is not None else block.start_mark.line) + 1
        example = _example(project, rel, label, raw, line)
        if example is not None:
            project.report.examples.append(example)


def _example(project: Project, rel: str, label: str, raw: str, line: int) -> Optional[Example]:
    """The example on one line of an examples block, or None (reported) if it is not one."""
    if not raw.strip():
        project.add(rel, line, f"an empty line inside the examples of {label}",
                    "delete the empty line: leave blank lines only between two "
                    "'- intent:' blocks")
        return None
    if not raw.startswith("-"):
        project.add(rel, line, f"this line under {label} is not an example: example lines "
                    "must start with '- ' and be indented like the others",
                    "start it with '- ' at the same indentation as the example above it")
        return None
    text = raw[1:].strip("\n\r ")
    if not text:
        project.add(rel, line, f"an empty example under {label} (nothing after '- ')",
                    "write the example after '- ', or delete the line")
        return None
    return Example(text, label, rel, line)


def check_heldout(project: Project, nlu: NluData) -> None:
    """Held-out question files: readable, and labelled with topics that exist."""
    for path in project.files(HELDOUT_NLU_GLOB):
        rel = project.rel(path)
        root = project.read(path)
        for block in items_of(child(root, "nlu")):
            label_node = child(block, "intent")
            label = text_of(label_node)
            if label_node is None or label is None or label in nlu.label_lines:
                continue
            if nlu.complete:
                project.add(rel, node_line(label_node),
                            f"these held-out questions are labelled '{label}', which is not "
                            "an intent or topic of the training data"
                            f"{did_you_mean(label, nlu.label_lines)}",
                            "correct the label to the topic's name as in data/nlu/, e.g. "
                            "'faq/cost_insurance'")
