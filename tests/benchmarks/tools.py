"""Running the two tools as the user would: whole processes, timed from spawn to exit."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.benchmarks.data import PASSWORD, USER

PASSWORD_ENV = "CALSYNC_BENCH_PASSWORD"


def executable(name: str) -> str | None:
    """The console script installed beside this interpreter (the project's venv)."""
    here = Path(sys.executable).parent / name
    return str(here) if here.exists() else shutil.which(name)


@dataclass
class Run:
    seconds: float
    #: peak resident memory of the process, MB (ru_maxrss of exactly this child)
    peak_mb: float
    code: int
    output: str
    #: the process's own CPU time, user + system seconds (with `memory`; else nan)
    cpu: float = float("nan")


#: Linux keeps the pre-exec peak in a process's ru_maxrss, and a child forked from this
#: (large) benchmark process starts out with our peak. So memory is measured through a
#: small launcher: the command is forked from it, and its peak is the command's own.
_LAUNCHER = """import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as fh:
    fh.write(f"{usage.ru_maxrss} {usage.ru_utime + usage.ru_stime}")
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run(
    cmd: list[str], *, env: dict[str, str] | None = None, check: bool = True, memory: bool = False
) -> Run:
    """Spawn, wait and time `cmd`; with `memory`, also its peak resident memory and
    its own CPU time (from wait4 of exactly that process).

    The launcher costs a few milliseconds, so timed comparisons run without it.
    """
    with tempfile.TemporaryFile() as out, tempfile.NamedTemporaryFile("r") as peak:
        argv = [sys.executable, "-S", "-c", _LAUNCHER, peak.name, *cmd] if memory else cmd
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
        proc.wait()
        seconds = time.perf_counter() - started
        out.seek(0)
        output = out.read().decode(errors="replace")
        usage = (peak.read() or "nan nan").split() if memory else ["nan", "nan"]
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])} … exited {proc.returncode}:\n{output[-3000:]}")
    return Run(seconds, float(usage[0]) / 1024, proc.returncode, output, float(usage[1]))


class RequestCounter:
    """Counts the requests Radicale logged (at level info) since the last `start()`."""

    def __init__(self, log: Path) -> None:
        self.log = log
        self.offset = 0

    def start(self) -> None:
        self.offset = self.log.stat().st_size

    def count(self) -> int:
        time.sleep(0.05)  # the server logs a request as it reads it; let the last one land
        with self.log.open("rb") as fh:
            fh.seek(self.offset)
            text = fh.read().decode(errors="replace")
        return sum(
            1 for line in text.splitlines() if "] [INFO] " in line and " request for " in line
        )


class Calsync:
    """A calsync workspace with one calsync.toml pointing at the benchmark server."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.ws = root / "ws"
        self.ws.mkdir(parents=True)
        (self.ws / "calsync.toml").write_text(
            f'[caldav]\nusername = "{USER}"\npassword_env = "{PASSWORD_ENV}"\ntimeout = 600\n',
            encoding="utf-8",
        )
        exe = executable("calsync")
        if exe is None:
            raise RuntimeError("the calsync command is not installed (uv sync)")
        self.exe = exe
        self.env = {**os.environ, PASSWORD_ENV: PASSWORD, "COLUMNS": "120"}
        self.env.pop("CALSYNC_WORKSPACE", None)

    def cmd(self, *args: str) -> list[str]:
        return [self.exe, "--workspace", str(self.ws), *args]

    def __call__(self, *args: str, check: bool = True, memory: bool = False) -> Run:
        return run(self.cmd(*args), env=self.env, check=check, memory=memory)

    def add_user(self, name: str, crm: Path, remote_url: str) -> None:
        crm.mkdir(parents=True, exist_ok=True)
        self("user", "add", name, "--crm", f"folder:{crm}", "--remote", f"caldav:{remote_url}")

    def user_dir(self, name: str) -> Path:
        return self.ws / "users" / name


class Vdirsyncer:
    """vdirsyncer with its own config: the same CalDAV collection into a folder."""

    def __init__(self, root: Path, remote_url: str) -> None:
        exe = executable("vdirsyncer")
        if exe is None:
            raise RuntimeError("vdirsyncer is not installed: uv run --group bench ...")
        self.exe = exe
        self.root = root
        self.local = root / "local"
        self.local.mkdir(parents=True)
        self.config = root / "config"
        self.config.write_text(
            "[general]\n"
            f'status_path = "{root / "status"}"\n\n'
            "[pair bench]\n"
            'a = "bench_remote"\n'
            'b = "bench_local"\n'
            "collections = null\n"
            'conflict_resolution = "a wins"\n\n'
            "[storage bench_remote]\n"
            'type = "caldav"\n'
            f'url = "{remote_url}"\n'
            f'username = "{USER}"\n'
            f'password = "{PASSWORD}"\n\n'
            "[storage bench_local]\n"
            'type = "filesystem"\n'
            f'path = "{self.local}"\n'
            'fileext = ".ics"\n',
            encoding="utf-8",
        )
        self.env = {**os.environ}

    def __call__(self, *args: str, memory: bool = False) -> Run:
        return run([self.exe, "-c", str(self.config), *args], env=self.env, memory=memory)
