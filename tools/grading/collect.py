"""`make collect A=<assignment> LMS=<download>`: bring submissions into submitted/<student>/<assignment>/.

From an LMS: the downloaded zip files (or a folder of them, or of notebooks) are copied into
downloaded/<assignment>/archive/, where every download stays as the record of what was
submitted, and `nbgrader zip_collect` extracts them all and copies each student's latest
attempt, by the time in its file name, to submitted/ (only notebooks: other files are left
out). Without an LMS download, `nbgrader collect` takes the submissions from the exchange.
"""
import argparse
import re
import shutil
import sys
from pathlib import Path

from nbgrader.plugins import FileNameCollectorPlugin

from tools.grading.course import ROOT, nbgrader

DASHED_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})-(\d{2})-(\d{2})-(\d{2})$")


class LmsFileNameCollector(FileNameCollectorPlugin):
    """nbgrader's file-name collector, reading YYYY-MM-DD-HH-MM-SS times correctly.

    nbgrader parses such a time (Blackboard's) with dateutil, which reads "-MM-SS" as a
    time-zone offset: 09:30:05 became 14:00 and 09:45:00 became 09:00, so the earlier of two
    attempts could win. Rewritten as "YYYY-MM-DD HH:MM:SS", it parses as written.
    """

    def collect(self, submitted_file):
        info = super().collect(submitted_file)
        if info and info.get("timestamp"):
            info["timestamp"] = DASHED_TIME.sub(r"\1 \2:\3:\4", info["timestamp"])
        return info


def archive(course, assignment, download):
    """Copy an LMS download (a file, or the files of a folder) into downloaded/<assignment>/archive/."""
    target = Path(course) / "downloaded" / assignment / "archive"
    target.mkdir(parents=True, exist_ok=True)
    download = Path(download)
    for path in sorted(download.iterdir()) if download.is_dir() else [download]:
        if path.is_file():
            shutil.copy2(path, target / path.name)
    return target


def collect(course, assignment, download=None, exchange=None):
    """Collect from an LMS download if given, else from the exchange."""
    if download:
        archive(course, assignment, download)
        return nbgrader(course, "zip_collect", assignment, "--force", "--log-level=WARN", check=True)
    options = [f"--Exchange.root={exchange}"] if exchange else []
    return nbgrader(course, "collect", assignment, "--update", *options, check=True)


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
