"""Run pieces of the solution notebooks in-process: an exercise's solution, or one check cell.

Tests use this to call the reference solution, and to feed a check cell a wrong
answer and see it fail, executing exactly the code that is in the notebook.
"""
import os
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]


def notebook_path(assignment):
    """The solution notebook of an assignment, e.g. solutions/01_cam/01_cam.ipynb."""
    return ROOT / "solutions" / assignment / f"{assignment}.ipynb"


def cell_source(assignment, grade_id):
    """Source of the cell whose nbgrader grade_id is `grade_id`."""
    notebook = nbformat.read(notebook_path(assignment), as_version=4)
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            return cell.source
    raise KeyError(f"no cell with grade_id {grade_id!r} in {notebook_path(assignment)}")


def setup_namespace(assignment):
    """A fresh namespace in which the notebook's first code cell (paths and imports) has run."""
    notebook = nbformat.read(notebook_path(assignment), as_version=4)
    setup = next(cell.source for cell in notebook.cells if cell.cell_type == "code")
    namespace = {"__name__": f"notebook_{assignment}"}
    previous = Path.cwd()
    os.chdir(notebook_path(assignment).parent)
    try:
        exec(compile(setup, f"{assignment}:setup", "exec"), namespace)
    finally:
        os.chdir(previous)
    return namespace


def solution_namespace(assignment, *grade_ids):
    """The setup namespace after running the given solution cells (defines the reference functions)."""
    namespace = setup_namespace(assignment)
    for grade_id in grade_ids:
        run_cell(assignment, grade_id, namespace)
    return namespace


def run_cell(assignment, grade_id, namespace):
    """Execute the cell `grade_id` in `namespace`; raises whatever the cell raises."""
    exec(compile(cell_source(assignment, grade_id), f"{assignment}:{grade_id}", "exec"), namespace)


# Answers that are (or call) the course's shipped answer module. The visible checks refuse them in the
# student's kernel; at grading time the sandbox withholds that module (SandboxedExecute.withhold_answers,
# the "calls_answer" row of test_grading_attacks.py), but in this process it is importable, so
# the hidden tests run here cannot be what rejects them.
SHIPPED_ANSWER_ROWS = ("calls_the_shipped_reference", "is_the_shipped_reference", "subclasses_the_shipped_reference")


def assert_stub_fails(assignment, grade_id, namespace):
    """An untouched stub fails the cell: a visible check raises its NotImplementedError; a hidden test,
    run here as the instructors' copy runs it, reports it as the error the submitted code raised."""
    expected = (AssertionError, "NotImplementedError") if grade_id.endswith("_hidden") else (NotImplementedError, None)
    with pytest.raises(expected[0], match=expected[1]):
        run_cell(assignment, grade_id, namespace)


def failure_text(failure):
    """A pytest.raises failure's message with its notes, as a student sees it."""
    return "\n".join([str(failure.value), *getattr(failure.value, "__notes__", [])])
