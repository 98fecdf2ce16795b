"""A throw-away copy of the course, for tests that run nbgrader (which writes into its course folder)."""
import shutil

from tools.grading import course, release
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


def copy_release(assignment, destination):
    """What a student unzips for `assignment` (the release zip's files, unstamped), copied into `destination`."""
    for relative in release.release_files(ROOT, assignment):
        (destination / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / relative, destination / relative)
    return destination
