"""`make lab` works where the shell is root, and `make test` gets its browser or says what to install.

Jupyter refuses to run as root without --allow-root (containers, cloud VMs): the Makefile passes it
then and only then. A stand-in `id` on PATH plays the other user.
"""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from course_copy import ROOT
from local_server import free_port, stop, wait_until_serving

BIN = Path(sys.executable).parent


def make(folder, *arguments, uid=None):
    """(command, environment) running make in `folder` with this Python's packages (nothing to install),
    where `id -u` says `uid` if given."""
    environment = dict(os.environ)
    if uid is not None:
        stand_in = folder / "stand-in-bin"
        stand_in.mkdir(exist_ok=True)
        (stand_in / "id").write_text(f"#!/bin/sh\necho {uid}\n")
        (stand_in / "id").chmod(0o755)
        environment["PATH"] = f"{stand_in}:{environment['PATH']}"
    command = ["make", "--no-print-directory", "-C", str(folder), "-o", ".venv/.course-installed", f"BIN={BIN}",
               *arguments]
    return command, environment


def course_folder(tmp_path):
    shutil.copy2(ROOT / "Makefile", tmp_path / "Makefile")
    (tmp_path / "notebooks").mkdir(exist_ok=True)
    return tmp_path


def planned(tmp_path, uid):
    command, environment = make(course_folder(tmp_path), "-n", "lab", uid=uid)
    result = subprocess.run(command, env=environment, capture_output=True, text=True, check=True)
    return result.stdout.split()


def test_make_lab_allows_root_only_as_root(tmp_path):
    assert planned(tmp_path, uid=0) == [f"{BIN}/jupyter", "lab", "--allow-root", "notebooks/"]
    assert planned(tmp_path, uid=1000) == [f"{BIN}/jupyter", "lab", "notebooks/"]


def test_make_lab_starts_jupyterlab_as_this_user(tmp_path):
    """A real start (as root when the tests run as root, as CI does), then a stop."""
    folder, port = course_folder(tmp_path), free_port()
    config = tmp_path / "jupyter-config"
    config.mkdir()
    (config / "jupyter_server_config.json").write_text(json.dumps({
        "ServerApp": {"open_browser": False, "ip": "127.0.0.1", "port": port, "port_retries": 0},
        "IdentityProvider": {"token": "make-lab-test"}}))
    command, environment = make(folder, "lab")
    environment.update(JUPYTER_CONFIG_DIR=str(config), JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
                       JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"))
    log = tmp_path / "make-lab.log"
    with open(log, "w") as output:
        started = subprocess.Popen(command, env=environment, stdout=output, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        wait_until_serving(f"http://127.0.0.1:{port}/api/status?token=make-lab-test", started, log)
    finally:
        stop(started)  # make and the JupyterLab it started, nothing else


def test_make_test_says_what_to_install_when_the_browser_is_missing_and_it_cannot(tmp_path):
    missing = tmp_path / "no-chromium"
    command, environment = make(course_folder(tmp_path), "browser", f"CHROMIUM={missing}", uid=1000)
    result = subprocess.run(command, env=environment, capture_output=True, text=True)
    assert result.returncode != 0
    assert f"make test needs {missing} and /usr/bin/chromedriver: install them as root" in result.stderr
    assert "sudo apt-get install chromium chromium-driver fonts-nanum" in result.stderr
