"""`make release`: the student versions as one zip per assignment for an LMS, and optionally an exchange.

`nbgrader generate_assignment` (with the gradebook) runs first, so notebooks/ is current and
the gradebook holds the tests that autograding restores. Each zip holds the notebook under
notebooks/<assignment>/ with what it needs beside it (utils.py, ImageNet_utils.py, coursekit/,
resources/, requirements.txt), so a student unzips it and opens the notebook as in the
repository; nothing from solutions/ goes in, and of coursekit/answers/ only the answers of
earlier assignments (which its notebook may build on), never those of this one or later. The zips are byte-identical run to run.
With --exchange DIR, `nbgrader release_assignment` also publishes to a JupyterHub exchange.
"""
import argparse
import sys
import zipfile
from pathlib import Path

from coursekit.answers import BY_ASSIGNMENT
from tools.grading.course import NOT_COURSE_FILES, ROOT, SHIPPED_FILES, assignments, nbgrader

FIXED_TIME = (2000, 1, 1, 0, 0, 0)


def withheld_answers(assignment):
    """Paths of the answer modules of `assignment` and every later one (coursekit/answers/)."""
    order = list(BY_ASSIGNMENT)
    from_here = order[order.index(assignment):] if assignment in order else []
    return {Path("coursekit", "answers", f"{BY_ASSIGNMENT[name]}.py") for name in from_here}


def _files(course, roots):
    """The files under `roots` (files or folders in the course), relative to the course."""
    return {path.relative_to(course) for root in roots for path in ([root] if root.is_file() else root.rglob("*"))
            if path.is_file() and not any(part in NOT_COURSE_FILES for part in path.parts)}


def support_files(course, assignment, withhold_answers=True):
    """Paths (relative to the course) a student of `assignment` gets beside the notebook, sorted: the
    shared course files, without the answers of this assignment and later ones (unless told otherwise)."""
    course = Path(course)
    files = _files(course, [course / name for name in SHIPPED_FILES])
    return sorted(files - withheld_answers(assignment) if withhold_answers else files)


def release_files(course, assignment):
    """Paths (relative to the course) that go into an assignment's zip, sorted."""
    course = Path(course)
    return sorted(_files(course, [course / "notebooks" / assignment]) | set(support_files(course, assignment)))


def write_zip(course, assignment, destination):
    """Write destination/<assignment>.zip with a top folder named after the assignment."""
    target = Path(destination) / f"{assignment}.zip"
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for relative in release_files(course, assignment):
            entry = zipfile.ZipInfo(f"{assignment}/{relative.as_posix()}", FIXED_TIME)
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, (Path(course) / relative).read_bytes(), zipfile.ZIP_DEFLATED)
    return target


def release(course, names, destination, exchange=None):
    """Generate, zip and (with an exchange folder) publish each assignment; return the zips."""
    zips = []
    for number, assignment in enumerate(names, 1):
        print(f"[{number}/{len(names)}] {assignment}", flush=True)
        nbgrader(course, "generate_assignment", assignment, "--force", "--log-level=WARN", check=True)
        zips.append(write_zip(course, assignment, destination))
        if exchange:
            nbgrader(course, "release_assignment", assignment, "--force", f"--Exchange.root={exchange}",
                     "--log-level=WARN", check=True)
    return zips


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignments", nargs="*", help="default: every folder in solutions/")
    parser.add_argument("--course", default=ROOT, type=Path)
    parser.add_argument("--zips", default=None, type=Path, help="default: <course>/release_zips")
    parser.add_argument("--exchange", default=None, help="nbgrader exchange folder (JupyterHub)")
    args = parser.parse_args(argv)
    for path in release(args.course, args.assignments or assignments(args.course),
                        args.zips or args.course / "release_zips", args.exchange):
        print(f"  {path}")


if __name__ == "__main__":
    sys.exit(main())
