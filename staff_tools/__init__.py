"""Command-line tools for clinic staff: run them with `python -m staff_tools.<name>`."""
