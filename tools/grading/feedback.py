"""`make feedback A=<assignment>`: feedback for every graded student, released to the exchange if asked,
even when some student's feedback cannot be made.

The hidden-test cells' outputs are already the grader's verdict (verdict.py), so feedback quotes no
test code and no expected result. nbgrader's ClearHiddenTests strips the hidden-test region from
every cell, and stops with an error at any cell that holds the marker text without being a test
cell: one student who wrote "BEGIN HIDDEN TESTS" in an answer stopped the class's feedback. Here
it strips only test cells, whose source the gradebook restored at grading. A student whose
feedback still fails is listed with the log to read (nbgrader removes that feedback), and
everyone else's is released.
"""
import argparse
import sys
from pathlib import Path

from nbgrader.preprocessors import ClearHiddenTests
from traitlets import Bool

from tools.grading.course import ROOT, nbgrader
from tools.grading.parallel import FAILED
from tools.grading.cells import is_test


class ClearHiddenTestsInTestCells(ClearHiddenTests):
    """nbgrader's ClearHiddenTests, on test cells only: marker text in a student's answer is just text."""

    only_test_cells = Bool(True, help="Off only to show what it prevents: nbgrader's own behaviour.").tag(config=True)

    def preprocess_cell(self, cell, resources, cell_index):
        if self.only_test_cells and not is_test(cell):
            return cell, resources
        return super().preprocess_cell(cell, resources, cell_index)


def graded_students(course, assignment):
    """Student ids with an autograded submission of the assignment."""
    return sorted(p.parent.name for p in (Path(course) / "autograded").glob(f"*/{assignment}") if p.is_dir())


def feedback(course, assignment, exchange=None, options=()):
    """Generate (and with an exchange, release) feedback; print a line per student; return {student: problem}."""
    course = Path(course)
    log_path = course / "logs" / f"feedback_{assignment}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    result = nbgrader(course, "generate_feedback", assignment, "--force", *options, capture_output=True)
    log_path.write_text(result.stdout + result.stderr)
    problems = {m["student"]: f"feedback could not be made: see {log_path}"
                for m in FAILED.finditer(result.stdout + result.stderr)}
    if exchange:
        nbgrader(course, "release_feedback", assignment, f"--Exchange.root={exchange}", "--log-level=WARN", check=True)
    for student in graded_students(course, assignment):
        done = "released" if exchange else "written"
        print(f"  {student:<24} {problems.get(student, f'feedback {done}')}")
    return problems


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignment")
    parser.add_argument("--course", default=ROOT, type=Path)
    parser.add_argument("--exchange", default=None, help="nbgrader exchange folder (JupyterHub): release it there")
    args, nbgrader_options = parser.parse_known_args(argv)
    problems = feedback(args.course, args.assignment, args.exchange, nbgrader_options)
    if problems:
        print(f"{len(problems)} student(s) got no feedback: fix and run again (see above).")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
