"""A throw-away copy of the course, for tests that run nbgrader (which writes into its course folder), and its grades."""
from tools.grading import autograde, course
from tools.grading.course import copy_course  # noqa: F401 (the tests' import point)

ROOT = course.ROOT


def nbgrader(course_folder, *args):
    """Run an nbgrader command in `course_folder`; fail the test with its output if it fails."""
    result = course.nbgrader(course_folder, *args, capture_output=True)
    assert result.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


def assignments():
    """The assignment names: one folder per assignment under solutions/."""
    return course.assignments(ROOT)


def cell_scores(course_folder, assignment, names):
    """{student: {test cell: (score, needs manual grading)}} from the gradebook of a graded course copy."""
    with autograde.gradebook(course_folder) as gb:
        return {name: {grade.name: (grade.score, grade.needs_manual_grade)
                       for grade in gb.find_submission_notebook(assignment, assignment, name).grades}
                for name in names}
