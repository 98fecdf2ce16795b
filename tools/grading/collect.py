"""`make collect A=<assignment> LMS=<download>`: bring submissions into submitted/<student>/<assignment>/.

From an LMS: the downloaded zip files (or a folder of them, or of notebooks) are copied into
downloaded/<assignment>/archive/, where every download stays as the record of what was
submitted, and `nbgrader zip_collect` extracts them all and copies each student's latest
attempt, by the time in its file name, to submitted/ (only notebooks: other files are left
out). Without an LMS download, `nbgrader collect` takes the submissions from the exchange.
"""
import argparse
import os
import re
import shutil
import sys
from pathlib import Path

from nbgrader.plugins import FileNameCollectorPlugin
from traitlets import Bool

from tools.grading.course import ROOT, nbgrader

DASHED_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})-(\d{2})-(\d{2})-(\d{2})$")
# Blackboard's names: <assignment title>_<student id>_attempt_<YYYY-MM-DD-HH-MM-SS>_<name the student chose>.ipynb.
# Lazy and anchored at the start of the file name, so the first "_<id>_attempt_<time>_" (the LMS's) decides
# whose file it is, whatever name the student chose (nbgrader_config.py sets it; change it there for another LMS).
LMS_PATTERN = r"^.*?_(?P<student_id>[A-Za-z0-9][A-Za-z0-9.@-]*)_attempt_(?P<timestamp>\d{4}(?:-\d{2}){5})_(?P<file_id>.+)\.ipynb$"


class LmsFileNameCollector(FileNameCollectorPlugin):
    """nbgrader's file-name collector, reading only the file's own name and never a path out of a student id.

    The pattern (nbgrader_config.py) is matched against the file name alone, from its start: the
    LMS writes the student id before the part the student chose, so a lazy pattern takes the
    LMS's id even when the chosen name imitates another student's ("..._<victim>_attempt_2099-...").
    An id that is empty, "." or "..", or holds a path separator, is refused (the file is skipped
    and logged): it would write outside submitted/.
    Times YYYY-MM-DD-HH-MM-SS (Blackboard's) are read as written: nbgrader's dateutil reads
    "-MM-SS" as a time-zone offset, so 09:30:05 became 14:00 and the earlier attempt could win.
    """

    check_student_ids = Bool(True, help="Refuse ids that are not plain names (off only to show what it prevents).")\
        .tag(config=True)

    def collect(self, submitted_file):
        info = super().collect(os.path.basename(submitted_file))
        if not info:
            return None
        if self.check_student_ids and not safe_student_id(info.get("student_id")):
            self.log.error("refused a submission whose student id %r is not a plain name: %s",
                           info.get("student_id"), submitted_file)
            return None
        if info.get("timestamp"):
            info["timestamp"] = DASHED_TIME.sub(r"\1 \2:\3:\4", info["timestamp"])
        return info


def safe_student_id(student_id):
    """Whether an id can name a folder in submitted/ and nothing else."""
    return (isinstance(student_id, str) and student_id not in ("", ".", "..")
            and not any(separator in student_id for separator in ("/", "\\", os.sep, "\0")))


def archive(course, assignment, download):
    """Copy an LMS download (a file, or the files of a folder) into downloaded/<assignment>/archive/."""
    target = Path(course) / "downloaded" / assignment / "archive"
    target.mkdir(parents=True, exist_ok=True)
    download = Path(download)
    for path in sorted(download.iterdir()) if download.is_dir() else [download]:
        if path.is_file():
            shutil.copy2(path, target / path.name)
    return target


def collect(course, assignment, download=None, exchange=None, options=()):
    """Collect from an LMS download if given, else from the exchange; `options` go to nbgrader."""
    if download:
        archive(course, assignment, download)
        return nbgrader(course, "zip_collect", assignment, "--force", "--log-level=WARN", *options, check=True)
    exchange_option = [f"--Exchange.root={exchange}"] if exchange else []
    return nbgrader(course, "collect", assignment, "--update", *exchange_option, *options, check=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignment")
    parser.add_argument("--course", default=ROOT, type=Path)
    parser.add_argument("--lms", default=None, help="the LMS download: a zip file or a folder")
    parser.add_argument("--exchange", default=None, help="nbgrader exchange folder (JupyterHub)")
    args = parser.parse_args(argv)
    collect(args.course, args.assignment, args.lms, args.exchange)
    submitted = sorted((args.course / "submitted").glob(f"*/{args.assignment}"))
    print(f"{len(submitted)} submissions of {args.assignment} in submitted/")


if __name__ == "__main__":
    sys.exit(main())
