"""What nbgrader's metadata makes of a notebook cell, without importing anything heavy.

Feedback (a separate nbgrader process per run) needs only this, not the verdict machinery
and the torch it imports: a few seconds less in every `make feedback`.
"""


def is_test(cell):
    """Whether a cell is a test cell (graded, not an answer)."""
    meta = cell.metadata.get("nbgrader", {})
    return bool(meta.get("grade")) and not meta.get("solution")
