"""notebooks/ is exactly what nbgrader generates from solutions/, and holds no answers."""
import filecmp

import nbformat
import pytest

from course_copy import ROOT, assignments, copy_course, nbgrader


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    course = copy_course(tmp_path_factory.mktemp("course"))
    for assignment in assignments():
        nbgrader(course, "generate_assignment", assignment, "--no-db", "--force")
    return course / "notebooks"


def test_every_assignment_has_a_committed_student_version():
    assert assignments(), "no assignments found in solutions/"
    for assignment in assignments():
        assert (ROOT / "notebooks" / assignment / f"{assignment}.ipynb").is_file(), \
            f"notebooks/{assignment} is missing: run `make student` and commit it"


@pytest.mark.parametrize("assignment", assignments())
def test_committed_student_version_is_fresh(regenerated, assignment):
    fresh, committed = regenerated / assignment, ROOT / "notebooks" / assignment
    comparison = filecmp.dircmp(fresh, committed, ignore=["__pycache__", ".ipynb_checkpoints"])
    stale = comparison.diff_files + comparison.left_only + comparison.right_only
    assert not stale, f"notebooks/{assignment} is stale ({stale}): run `make student` and commit the result"


@pytest.mark.parametrize("assignment", assignments())
def test_solution_notebooks_are_committed_without_outputs(assignment):
    notebook = nbformat.read(ROOT / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, "clear the outputs before committing"


@pytest.mark.parametrize("assignment", assignments())
def test_student_version_has_stubs_and_no_answers(assignment):
    text = (ROOT / "notebooks" / assignment / f"{assignment}.ipynb").read_text(encoding="utf-8")
    for secret in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "_expected", "einsum(\\\"k,khw"):
        assert secret not in text, f"student notebook leaks {secret!r}"
    notebook = nbformat.reads(text, as_version=4)
    solution_cells = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert solution_cells, "no exercise cells"
    for cell in solution_cells:
        assert "##### YOUR CODE START #####" in cell.source and "##### YOUR CODE END #####" in cell.source
        assert "raise NotImplementedError()" in cell.source
