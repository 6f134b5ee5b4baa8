"""Benchmark 4: `calsync sync --all` over many users with nothing to do.

Setup (untimed) makes one user for real (a Radicale calendar uploaded, `calsync
init`) and clones it: the Radicale collection folder (items and Radicale's cache),
the CRM folder (mtimes kept, so etags match) and the state file with the names
swapped. One untimed `sync --all` then settles every clone, so the timed runs
really have nothing to do.
"""

from __future__ import annotations

import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from storage.tinystore import open_db
from storage.users import USER_KEYS
from storage.workspace import Workspace
from tests.benchmarks.data import USER, Dav, calendar_text
from tests.benchmarks.report import Report, median, secs, verdict
from tests.benchmarks.tools import Calsync
from tests.providers.dav.radicale_server import RadicaleServer


def _progress(text: str) -> None:
    print(f"  · {text}", flush=True)


def _name(n: int) -> str:
    return f"u{n:05d}"


class UsersBench:
    def __init__(
        self,
        root: Path,
        server: RadicaleServer,
        *,
        users: int,
        items: int,
        rounds: int,
        jobs: tuple[int, ...],
    ) -> None:
        self.root = root
        self.server = server
        self.users = users
        self.items = items
        self.rounds = rounds
        self.jobs = jobs
        self.calsync = Calsync(root / "many")

    def _url(self, n: int) -> str:
        return f"{self.server.url}{USER}/{_name(n)}/"

    def setup(self) -> None:
        _progress(f"making {self.users} users × {self.items} items (one real, the rest cloned)")
        Dav(self.server.url).upload_calendar(
            f"/{USER}/{_name(0)}/", calendar_text(self.items, prefix="m")
        )
        cs = self.calsync
        crm_root = cs.root / "crm"
        cs.add_user(_name(0), crm_root / _name(0), self._url(0))
        cs("init", _name(0))
        template_state = (cs.user_dir(_name(0)) / "state.json").read_text(encoding="utf-8")
        template_cal = self.server.storage / "collection-root" / USER / _name(0)
        users: list[dict[str, object]] = []

        def clone(n: int) -> None:
            name = _name(n)
            shutil.copytree(template_cal, template_cal.parent / name, copy_function=shutil.copy2)
            shutil.copytree(crm_root / _name(0), crm_root / name, copy_function=shutil.copy2)
            user_dir = cs.user_dir(name)
            user_dir.mkdir(parents=True, mode=0o700)
            state = user_dir / "state.json"
            state.write_text(
                template_state.replace(f"/{_name(0)}/", f"/{name}/")
                .replace(f'/{_name(0)}"', f'/{name}"')
                .replace(f"/{_name(0)}#", f"/{name}#"),
                encoding="utf-8",
            )
            state.chmod(0o600)

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(clone, range(1, self.users)))
        template_user = json.loads((cs.ws / "users.json").read_text(encoding="utf-8"))["users"]["1"]
        for n in range(1, self.users):
            record = {k: template_user.get(k) for k in USER_KEYS}
            record.update(
                name=_name(n), crm=f"folder:{crm_root / _name(n)}", remote=f"caldav:{self._url(n)}"
            )
            users.append(record)
        db = open_db(Workspace(cs.ws).users_path)
        db.table("users").insert_multiple(users)
        _progress("settling every user with one untimed sync --all")
        got = cs("sync", "--all", "--quiet", "--json", "--jobs", str(max(self.jobs)), check=False)
        totals = json.loads(got.output)["totals"]
        if totals.get("ok") != self.users:
            raise RuntimeError(f"settling sync --all: {totals}")

    def run(self, report: Report) -> None:
        per_jobs: dict[int, list[float]] = {j: [] for j in self.jobs}
        peaks: dict[int, list[float]] = {j: [] for j in self.jobs}
        for n in range(self.rounds):
            for jobs in self.jobs:
                got = self.calsync(
                    "sync",
                    "--all",
                    "--quiet",
                    "--json",
                    "--jobs",
                    str(jobs),
                    check=False,
                    memory=True,
                )
                summary = json.loads(got.output)
                totals = summary["totals"]
                changed = sum(sum(ops.values()) for ops in summary["counts"].values())
                if totals.get("ok") != self.users or changed:
                    report.notes.append(
                        f"warning: sync --all --jobs {jobs}: {totals}, {changed} changes"
                    )
                per_jobs[jobs].append(self.users / got.seconds)
                peaks[jobs].append(got.peak_mb)
                _progress(
                    f"round {n + 1}: --jobs {jobs}: {secs(got.seconds)}, {self.users / got.seconds:.0f} users/s, peak {got.peak_mb:.0f} MB"
                )
        one, many = min(self.jobs), max(self.jobs)
        for jobs in self.jobs:
            report.add(
                "4 many users",
                f"{self.users}×{self.items}, --jobs {jobs}",
                f"{median(per_jobs[jobs]):.1f} users/s",
            )
        speedup = median(per_jobs[many]) / median(per_jobs[one])
        report.add(
            "4 many users",
            f"--jobs {many} vs --jobs {one}",
            "",
            "",
            f"{speedup:.2f}×",
            "≥ 2×",
            verdict(speedup >= 2),
        )
        for jobs in self.jobs:
            report.add("4 many users", f"peak memory, --jobs {jobs}", f"{max(peaks[jobs]):.0f} MB")
        peak = max(max(v) for v in peaks.values())
        report.add(
            "4 many users",
            "peak memory (max RSS)",
            f"{peak:.0f} MB",
            "",
            "",
            "< 300 MB",
            verdict(peak < 300, f"{300 / peak:.1f}× under") if peak < 300 else verdict(False),
        )
