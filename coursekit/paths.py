"""Where the course's files are, wherever a notebook runs.

Notebooks run from solutions/<a>/, notebooks/<a>/ or nbgrader's submitted/ and
autograded/ folders; this module is found through the course root they put on
sys.path, so paths relative to this file are the same for all of them.
find_course_root is the rule by which they find that root: the notebooks' first
cells hold a copy of it (they run before the course is importable), which
tests/test_course_root.py keeps identical to this one.
"""
from pathlib import Path

COURSE_ROOT = Path(__file__).resolve().parent.parent
RESOURCES = COURSE_ROOT / "resources"


def find_course_root(folder):
    """The course folder: the nearest parent of `folder` holding utils.py and resources/ (None if there is none)."""
    for parent in Path(folder).resolve().parents:
        if (parent / "utils.py").is_file() and (parent / "resources").is_dir():
            return parent
    return None


def resource_path(name):
    """Return the absolute path of a file in resources/, or a clear error listing what is there."""
    path = RESOURCES / name
    if not path.is_file():
        available = sorted(p.name for p in RESOURCES.glob("*") if p.suffix.lower() in {".png", ".jpg", ".jpeg"})
        raise FileNotFoundError(
            f"resources/ 폴더에 '{name}' 파일이 없습니다. 사용할 수 있는 이미지: {available}\n"
            f"no file '{name}' in {RESOURCES}; available images: {available}")
    return path
