"""A YAML parser error in plain words, at the line where the mistake most likely is."""

from __future__ import annotations

import yaml

from staff_tools.check_data.report import Problem

_PREFIX = "this file cannot be read"


def _mistake_line(error: yaml.MarkedYAMLError, context: str) -> int:
    mark = error.problem_mark or error.context_mark
    line = mark.line + 1 if mark else 1
    # Where the parser gave up is often far below the mistake: for an unclosed quote or
    # bracket, or a line without its colon, the mistake is where that began.
    if error.context_mark is not None and any(
        start in context for start in ("quoted scalar", "flow", "simple key")
    ):
        line = error.context_mark.line + 1
    return line


def yaml_problem(path: str, error: yaml.MarkedYAMLError) -> Problem:
    """The problem to report for a file the YAML parser cannot read."""
    problem = (error.problem or "").strip()
    context = (error.context or "").strip()
    line = _mistake_line(error, context)
    what, fix = _explain(problem, context)
    return Problem(path, line, f"{_PREFIX}: {what}", fix)


def _explain(problem: str, context: str) -> tuple[str, str]:
    """What is wrong and how to fix it, from the parser's problem and context."""
    if "quoted scalar" in context:
        return ("a quotation mark opened on this line is never closed",
                "add the closing quotation mark at the end of the text")
    if "'\\t'" in problem or "tab" in problem:
        return ("this line contains a tab character",
                "indent with spaces only: delete the tab and type spaces instead")
    if problem.startswith("mapping values are not allowed"):
        return ("there is a colon followed by a space (': ') where none is expected",
                "if this line is text that contains ': ', put the whole text in double quotes; "
                "otherwise check that the line is indented like the lines around it")
    if "could not find expected ':'" in problem:
        return ("a 'name: value' line has no colon, or a line above it is not indented like "
                "its neighbours",
                "add the missing ':' or line the indentation up with the lines above")
    if "cannot start any token" in problem:
        return ("a text starts with a character YAML reserves (such as @, ` or %)",
                "put the whole text in double quotes")
    if "unknown escape character" in problem:
        return ("a backslash (\\) inside double quotes",
                "remove the backslash, or use single quotes around the text")
    if "flow" in context:
        return ("a list in square brackets [...] or a group in braces {...} is not closed "
                "properly", "check the brackets and commas on this line")
    if "expected <block end>" in problem or "did not find expected" in problem or \
            "block" in context:
        return ("the indentation (the spaces at the start of the line) does not line up with "
                "the lines above",
                "indent this line with exactly as many spaces as the lines it belongs with; "
                "compare it with a block that works")
    return (problem or "not valid YAML",
            "compare this line with a similar block that works, and look for a missing quote, "
            "colon or space")
