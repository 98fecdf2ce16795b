"""`make release`: the student versions as one zip per assignment for an LMS, and optionally an exchange.

`nbgrader generate_assignment` (with the gradebook) runs first, so notebooks/ is current and
the gradebook holds the tests that autograding restores. Each zip holds the notebook under
notebooks/<assignment>/ with what it needs beside it (utils.py, ImageNet_utils.py, coursekit/,
resources/, requirements.txt), so a student unzips it and opens the notebook as in the
repository; nothing from solutions/ goes in, and of coursekit/answers/ only the answers of
earlier assignments (which its notebook may build on), never those of this one or later. The zips are byte-identical run to run.
With --exchange DIR, `nbgrader release_assignment` also publishes to a JupyterHub exchange.

With --course-url URL (`make release COURSE_URL=...`), the released notebooks (in the zips and the
exchange; notebooks/ itself stays as nbgrader made it) carry the address their first cell fetches the
course from on Colab: a git repository, or an address ending in .zip with `{assignment}` where the
assignment's name goes (each assignment has its own zip). When the address is on GitHub, each
released notebook also gets an "Open in Colab" badge for notebooks/<a>/<a>.ipynb on that repository's
main branch, and the same badges are printed for the README: Colab opens notebooks by link only from
GitHub, so other addresses get no badge (students upload the notebook to Colab instead).
"""
import argparse
import json
import re
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

import nbformat

from coursekit.answers import BY_ASSIGNMENT
from tools.grading.course import NOT_COURSE_FILES, ROOT, SHIPPED_FILES, assignments, nbgrader

FIXED_TIME = (2000, 1, 1, 0, 0, 0)
UNSTAMPED = 'COURSE_URL = ""'  # the line of a notebook's first cell that a course URL replaces
GITHUB = re.compile(r"https://github\.com/(?P<owner>[^/]+)/(?P<repo>[^/]+?)(\.git)?(/.*)?")
BADGE = "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({link})"


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


def assignment_url(course_url, assignment):
    """The course address stamped into an assignment's notebooks: `{assignment}` replaced by its name."""
    if course_url.endswith(".zip") and "{assignment}" not in course_url:
        raise ValueError(f"COURSE_URL {course_url} ends in .zip but has no {{assignment}}: each assignment has its "
                         "own zip, e.g. https://example.org/xai/{assignment}.zip")
    return course_url.replace("{assignment}", assignment)


def colab_link(course_url, assignment):
    """The Colab address of the assignment's notebook in the course's GitHub repository (None off GitHub)."""
    found = GITHUB.fullmatch(course_url)
    if not found:
        return None
    return (f"https://colab.research.google.com/github/{found['owner']}/{found['repo']}/blob/main/"
            f"notebooks/{assignment}/{assignment}.ipynb")


def stamped(text, course_url, assignment):
    """A released notebook's text with the course address in its first code cell and, on GitHub, a Colab badge."""
    notebook = nbformat.reads(text, as_version=4)
    setup = next(cell for cell in notebook.cells if cell.cell_type == "code")
    if setup.source.count(UNSTAMPED) != 1:
        raise ValueError(f"{assignment}: the first code cell needs the line {UNSTAMPED} once, to receive COURSE_URL")
    url = assignment_url(course_url, assignment)
    setup.source = setup.source.replace(UNSTAMPED, f"COURSE_URL = {json.dumps(url)}")
    link = colab_link(url, assignment)
    if link:
        introduction = next(cell for cell in notebook.cells if cell.cell_type == "markdown")
        title, _, rest = introduction.source.partition("\n")
        introduction.source = f"{title}\n\n{BADGE.format(link=link)}\n{rest}"
    return nbformat.writes(notebook) + "\n"


def released_bytes(course, relative, assignment, course_url=None):
    """A file as released: the assignment's notebooks stamped with the course address when there is one."""
    data = (Path(course) / relative).read_bytes()
    if course_url and relative.suffix == ".ipynb" and relative.parts[:2] == ("notebooks", assignment):
        return stamped(data.decode("utf-8"), course_url, assignment).encode("utf-8")
    return data


def write_zip(course, assignment, destination, course_url=None):
    """Write destination/<assignment>.zip with a top folder named after the assignment."""
    target = Path(destination) / f"{assignment}.zip"
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for relative in release_files(course, assignment):
            entry = zipfile.ZipInfo(f"{assignment}/{relative.as_posix()}", FIXED_TIME)
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, released_bytes(course, relative, assignment, course_url), zipfile.ZIP_DEFLATED)
    return target


def publish(course, assignment, exchange, course_url=None):
    """`nbgrader release_assignment` into the exchange, from a stamped copy of notebooks/<a>/ if there is an address."""
    with tempfile.TemporaryDirectory() as staging:
        released = Path(course) / "notebooks"
        if course_url:
            shutil.copytree(released / assignment, Path(staging) / assignment,
                            ignore=shutil.ignore_patterns(*NOT_COURSE_FILES))
            for notebook in (Path(staging) / assignment).glob("*.ipynb"):
                notebook.write_text(stamped(notebook.read_text(encoding="utf-8"), course_url, assignment),
                                    encoding="utf-8")
            released = Path(staging)
        nbgrader(course, "release_assignment", assignment, "--force", f"--Exchange.root={exchange}",
                 f"--CourseDirectory.release_directory={released}", "--log-level=WARN", check=True)


def release(course, names, destination, exchange=None, course_url=None):
    """Generate, zip and (with an exchange folder) publish each assignment; return the zips."""
    zips = []
    for number, assignment in enumerate(names, 1):
        print(f"[{number}/{len(names)}] {assignment}", flush=True)
        nbgrader(course, "generate_assignment", assignment, "--force", "--log-level=WARN", check=True)
        zips.append(write_zip(course, assignment, destination, course_url))
        if exchange:
            publish(course, assignment, exchange, course_url)
    return zips


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignments", nargs="*", help="default: every folder in solutions/")
    parser.add_argument("--course", default=ROOT, type=Path)
    parser.add_argument("--zips", default=None, type=Path, help="default: <course>/release_zips")
    parser.add_argument("--exchange", default=None, help="nbgrader exchange folder (JupyterHub)")
    parser.add_argument("--course-url", default=None,
                        help="where notebooks on Colab fetch the course: a git URL, or a .zip URL with {assignment}")
    args = parser.parse_args(argv)
    names = args.assignments or assignments(args.course)
    for path in release(args.course, names, args.zips or args.course / "release_zips", args.exchange, args.course_url):
        print(f"  {path}")
    if args.course_url:
        print_readme_badges(args.course_url, names)


def print_readme_badges(course_url, names):
    """Say what the README gets: a Colab badge per assignment (GitHub), or why there is none."""
    links = {name: colab_link(assignment_url(course_url, name), name) for name in names}
    if not all(links.values()):
        print("No Open-in-Colab badges: Colab opens notebooks by link only from GitHub "
              "(students upload the released notebook to Colab instead).")
        return
    print("Open-in-Colab badges for the README's student section:")
    for name, link in links.items():
        print(f"  {name}: {BADGE.format(link=link)}")


if __name__ == "__main__":
    sys.exit(main())
