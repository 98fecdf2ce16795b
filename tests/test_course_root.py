"""One rule finds the course folder: the notebooks' first cells agree with coursekit.paths.find_course_root, which the grader uses.

The first cell of every notebook runs before the course is importable, so it holds its own copy
of the rule and of the Colab set-up; the copies must be the same in every notebook, and the
rule the same as coursekit.paths.find_course_root, which the grader uses.
"""
import ast
import inspect
import shutil

import nbformat
import pytest

from course_copy import ROOT, assignments
from coursekit.paths import find_course_root

BOOTSTRAP_END = "set_up_colab()  # installs only what Colab lacks, and says what it did\n"


def first_code_cell(path):
    return next(cell.source for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code")


def notebook_paths():
    return [ROOT / folder / a / f"{a}.ipynb" for folder in ("solutions", "notebooks") for a in assignments()]


def bootstrap(path):
    """The finder and Colab set-up part of a notebook's first code cell (before its own imports)."""
    source = first_code_cell(path)
    assert source.count(BOOTSTRAP_END) == 1, f"{path}: the first code cell must end its set-up with {BOOTSTRAP_END!r}"
    return source[:source.index(BOOTSTRAP_END) + len(BOOTSTRAP_END)]


def test_every_notebook_sets_itself_up_with_the_same_code():
    reference = bootstrap(notebook_paths()[0])
    for path in notebook_paths()[1:]:
        assert bootstrap(path) == reference, f"{path.relative_to(ROOT)}: set-up differs from {notebook_paths()[0]}"


@pytest.mark.parametrize("path", notebook_paths(), ids=lambda p: str(p.relative_to(ROOT)))
def test_notebooks_find_the_course_by_the_graders_rule(path):
    source = first_code_cell(path)
    definitions = [node for node in ast.parse(source).body
                   if isinstance(node, ast.FunctionDef) and node.name == "find_course_root"]
    assert len(definitions) == 1, "the first code cell must define find_course_root once"
    assert ast.get_source_segment(source, definitions[0]) == inspect.getsource(find_course_root).rstrip("\n")


@pytest.fixture
def layouts(tmp_path):
    """Folders a notebook runs from, with the course folder the rule must find (None: no course)."""
    course = tmp_path / "course"
    course.mkdir()
    for name in ("utils.py", "resources"):
        (shutil.copytree if (ROOT / name).is_dir() else shutil.copy2)(ROOT / name, course / name)
    graded = course / "autograded" / "alice" / "01_cam"
    no_resources = tmp_path / "half" / "notebooks" / "01_cam"
    for folder in (graded, no_resources, tmp_path / "empty"):
        folder.mkdir(parents=True)
    (tmp_path / "half" / "utils.py").write_text("")
    return {ROOT / "notebooks" / "01_cam": ROOT, ROOT / "solutions" / "04_attention_rollout": ROOT,
            graded: course, no_resources: None, tmp_path / "empty": None}


def test_the_rule_finds_the_nearest_parent_with_utils_and_resources(layouts):
    for folder, expected in layouts.items():
        assert find_course_root(folder) == expected, folder

