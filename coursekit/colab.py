"""What a notebook's first cell does on Colab once the course folder is there: install what Colab lacks.

Colab already has most of what the notebooks import (torch, torchvision, transformers,
matplotlib, pillow, numpy). Of requirements.txt, only the packages the notebooks import
when they run are checked; one that is missing, or installed in a version outside the
course's range, is installed. JupyterLab and nbgrader are not needed there: Colab is the
notebook server, and grading happens elsewhere.
"""
import subprocess
import sys
from importlib import metadata

from packaging.requirements import Requirement

from coursekit.messages import bilingual
from coursekit.paths import COURSE_ROOT

# The distributions of requirements.txt that the notebooks and the course import at run time
# (tests/test_colab.py checks that nothing they import is left out).
RUNTIME_DISTRIBUTIONS = ("torch", "torchvision", "transformers", "safetensors", "pillow", "numpy", "matplotlib")


def runtime_requirements(requirements_file=COURSE_ROOT / "requirements.txt"):
    """The requirements, with their version ranges, of requirements.txt that the notebooks need at run time."""
    lines = (line.split("#")[0].strip() for line in requirements_file.read_text(encoding="utf-8").splitlines())
    return [requirement for requirement in map(Requirement, filter(None, lines))
            if requirement.name in RUNTIME_DISTRIBUTIONS]


def unsatisfied(requirements, installed_version=metadata.version):
    """The requirements that are not installed, or are installed in a version outside their range."""
    def satisfied(requirement):
        try:
            return requirement.specifier.contains(installed_version(requirement.name), prereleases=True)
        except metadata.PackageNotFoundError:
            return False
    return [requirement for requirement in requirements if not satisfied(requirement)]


def set_up_colab(installed_version=metadata.version):
    """Install the runtime requirements Colab lacks, say (Korean, then English) what was done; return them."""
    needed = [str(requirement) for requirement in unsatisfied(runtime_requirements(), installed_version)]
    if needed:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *needed], check=True)
        print(bilingual(f"Colab: 코스 폴더는 {COURSE_ROOT}입니다. Colab에 없던 패키지를 설치했습니다: {', '.join(needed)}",
                        f"Colab: the course folder is {COURSE_ROOT}; installed what Colab lacked: {', '.join(needed)}"))
    else:
        print(bilingual(f"Colab: 코스 폴더는 {COURSE_ROOT}입니다. 필요한 패키지가 모두 있어 설치하지 않았습니다.",
                        f"Colab: the course folder is {COURSE_ROOT}; every package needed is there, nothing installed."))
    return needed
