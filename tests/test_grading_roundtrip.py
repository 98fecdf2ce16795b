"""An instructor's grading round in a copy of the course: generate, submit, autograde, feedback, export.

One student submits the reference answers (full marks), one the untouched
student notebook (zero, and grading does not crash).
"""
import csv
import re

import nbformat
import pytest

from course_copy import ROOT, assignments, copy_course, nbgrader

SOLUTION_MARKERS = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$\n?", re.MULTILINE)


def answered(student_notebook, solution_notebook):
    """The student notebook with every exercise cell filled in with the reference answer."""
    answers = {cell.metadata["nbgrader"]["grade_id"]: SOLUTION_MARKERS.sub("", cell.source)
               for cell in solution_notebook.cells if cell.metadata.get("nbgrader", {}).get("solution")}
    for cell in student_notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    return student_notebook


@pytest.fixture(scope="module")
def graded_course(tmp_path_factory):
    course = copy_course(tmp_path_factory.mktemp("course"))
    for assignment in assignments():
        nbgrader(course, "generate_assignment", assignment, "--force")
        name = f"{assignment}.ipynb"
        released = nbformat.read(course / "notebooks" / assignment / name, as_version=4)
        solution = nbformat.read(course / "solutions" / assignment / name, as_version=4)
        for student, notebook in (("alice", answered(released, solution)),
                                  ("bob", nbformat.read(course / "notebooks" / assignment / name, as_version=4))):
            folder = course / "submitted" / student / assignment
            folder.mkdir(parents=True)
            nbformat.write(notebook, folder / name)
        nbgrader(course, "autograde", assignment, "--create", "--force")
        nbgrader(course, "generate_feedback", assignment, "--force")
    nbgrader(course, "export", "--to", "grades.csv")
    with open(course / "grades.csv", newline="") as handle:
        grades = {(row["assignment"], row["student_id"]): row for row in csv.DictReader(handle)}
    return course, grades


@pytest.mark.parametrize("assignment", assignments())
def test_reference_answers_get_full_marks(graded_course, assignment):
    _, grades = graded_course
    row = grades[(assignment, "alice")]
    assert float(row["max_score"]) > 0
    assert float(row["score"]) == float(row["max_score"]), row


@pytest.mark.parametrize("assignment", assignments())
def test_untouched_notebook_gets_zero_without_crashing(graded_course, assignment):
    course, grades = graded_course
    assert float(grades[(assignment, "bob")]["score"]) == 0.0
    assert (course / "autograded" / "bob" / assignment / f"{assignment}.ipynb").is_file()


@pytest.mark.parametrize("assignment", assignments())
def test_feedback_exists_for_each_student(graded_course, assignment):
    course, _ = graded_course
    for student in ("alice", "bob"):
        assert (course / "feedback" / student / assignment / f"{assignment}.html").is_file()
