"""Grade every assignment's table but GENERIC_ASSIGNMENT's as an instructor would, and check every score.

The rows (submissions.py: correct, untouched, constant, and wrong answers in the later exercises)
go through release, LMS downloads, `collect`, one sandboxed `autograde` run per assignment, the CSV
export and the feedback (graded_course.py). GENERIC_ASSIGNMENT's table, with every attack, and the
proof that two workers give the scores of one: test_grading_attacks.py.
"""
import pytest

from course_copy import assignments
from graded_course import cases, check_feedback, check_scores, course, graded  # noqa: F401 (fixtures)
from submissions import EXERCISES, GENERIC_ASSIGNMENT, graded_cells

ASSIGNMENTS = [a for a in assignments() if a != GENERIC_ASSIGNMENT]
CASES = cases(ASSIGNMENTS)
# One worker: a second would start a second grader (nbgrader with torch, about 6 s of CPU) for two submissions,
# on a machine whose cores pytest-xdist already keeps busy.
JOBS = 1


@pytest.mark.parametrize("assignment,student", CASES, ids=[f"{a}-{s.name}" for a, s in CASES])
def test_each_test_cell_scores_as_expected(graded, assignment, student):
    check_scores(graded, assignment, student)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_no_submission_is_reported(graded, assignment):
    assert graded(assignment).problems == {}


def test_every_assignment_is_in_the_table():
    for assignment in assignments():
        exercises = {exercise for _, exercise in graded_cells(assignment).values()}
        assert set(EXERCISES.get(assignment, {})) == exercises, \
            f"tests/submissions.py: EXERCISES[{assignment!r}] needs a wrong and a constant answer for {exercises}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_feedback_shows_the_verdicts_and_no_test_code(course, graded, assignment):
    check_feedback(course, graded, assignment)
