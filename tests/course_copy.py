"""A throw-away copy of the course, for tests that run nbgrader (which writes into its course folder), its grades,
and what a student unzips."""
import shutil

from tools.grading import autograde, course, release
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


def copy_release(assignment, destination):
    """What a student unzips for `assignment` (the release zip's files, unstamped), copied into `destination`."""
    for relative in release.release_files(ROOT, assignment):
        (destination / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / relative, destination / relative)
    return destination
