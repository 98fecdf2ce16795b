"""`make release COURSE_URL=...`: released notebooks carry the course address (and, on GitHub, a Colab badge).

The zips and the exchange copy are stamped; notebooks/ stays exactly what nbgrader generated, and a
zip is byte-identical from one release to the next, with or without an address.
"""
import zipfile

import nbformat
import pytest

from course_copy import ROOT, copy_course, nbgrader
from tools.grading import release

ASSIGNMENT = "01_cam"
NOTEBOOK = f"notebooks/{ASSIGNMENT}/{ASSIGNMENT}.ipynb"
GITHUB = "https://github.com/example-professor/xai-course.git"
COLAB = ("https://colab.research.google.com/github/example-professor/xai-course/blob/main/"
         f"notebooks/{ASSIGNMENT}/{ASSIGNMENT}.ipynb")


def zipped(tmp_path, course_url, run=1):
    """{name in the zip: bytes} of the assignment's zip released with `course_url`."""
    with zipfile.ZipFile(release.write_zip(ROOT, ASSIGNMENT, tmp_path / f"run{run}", course_url)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def cells(text):
    notebook = nbformat.reads(text, as_version=4)
    return (next(c.source for c in notebook.cells if c.cell_type == "markdown"),
            next(c.source for c in notebook.cells if c.cell_type == "code"))


def test_without_an_address_the_zip_ships_the_notebook_as_generated(tmp_path):
    files = zipped(tmp_path, None)
    assert files[f"{ASSIGNMENT}/{NOTEBOOK}"] == (ROOT / NOTEBOOK).read_bytes()
    assert 'COURSE_URL = ""' in cells((ROOT / NOTEBOOK).read_text(encoding="utf-8"))[1]


def test_a_github_address_is_stamped_with_a_colab_badge_and_the_zip_is_reproducible(tmp_path):
    first, second = zipped(tmp_path, GITHUB, run=1), zipped(tmp_path, GITHUB, run=2)
    assert first == second
    introduction, setup = cells(first[f"{ASSIGNMENT}/{NOTEBOOK}"].decode("utf-8"))
    assert f'COURSE_URL = "{GITHUB}"' in setup and 'COURSE_URL = ""' not in setup
    assert f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({COLAB})" in introduction
    unstamped = zipped(tmp_path, None, run=3)
    assert [name for name in first if first[name] != unstamped[name]] == [f"{ASSIGNMENT}/{NOTEBOOK}"]


def test_a_zip_address_names_each_assignments_zip_and_gets_no_badge_off_github(tmp_path):
    files = zipped(tmp_path, "https://lms.example.org/xai/{assignment}.zip")
    introduction, setup = cells(files[f"{ASSIGNMENT}/{NOTEBOOK}"].decode("utf-8"))
    assert f'COURSE_URL = "https://lms.example.org/xai/{ASSIGNMENT}.zip"' in setup
    assert "colab-badge" not in introduction


def test_a_zip_address_without_the_assignment_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"has no \{assignment\}"):
        zipped(tmp_path, "https://lms.example.org/xai/course.zip")


def test_the_exchange_gets_a_stamped_copy_and_notebooks_stays_as_generated(tmp_path):
    course = copy_course(tmp_path / "course")
    nbgrader(course, "generate_assignment", ASSIGNMENT, "--no-db", "--force", "--log-level=WARN")
    generated = (course / NOTEBOOK).read_bytes()
    release.publish(course, ASSIGNMENT, tmp_path / "exchange", GITHUB)
    published = tmp_path / "exchange" / "xai-course" / "outbound" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert f'COURSE_URL = "{GITHUB}"' in cells(published.read_text(encoding="utf-8"))[1]
    assert (course / NOTEBOOK).read_bytes() == generated


def test_release_prints_the_readme_badges_or_why_there_are_none(capsys):
    release.print_readme_badges(GITHUB, [ASSIGNMENT])
    assert f"{ASSIGNMENT}: [![Open In Colab]" in capsys.readouterr().out
    release.print_readme_badges("https://lms.example.org/xai/{assignment}.zip", [ASSIGNMENT])
    assert "No Open-in-Colab badges: Colab opens notebooks by link only from GitHub" in capsys.readouterr().out
