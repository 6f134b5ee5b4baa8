"""Benchmark 4: `calsync sync --all` over many users with nothing to do, across a "network".

The users' CalDAV URLs point at the latency proxy (tests/benchmarks/latency_proxy.py)
in front of Radicale, which adds a fixed delay to every request (default 100 ms), as
a WAN round trip to Exchange Online, Google or a hosted CalDAV server would.

Setup (untimed) makes one user for real (a Radicale calendar uploaded, `calsync
init`) and clones it: the Radicale collection folder (items and Radicale's cache),
the CRM folder (mtimes kept, so etags match) and the state file with the names
swapped. One untimed `sync --all` then settles every clone, so the timed runs
really have nothing to do.

Measured per run, from wait4 of exactly the calsync process (a small launcher, see
tools.run): wall time, its own CPU time (user + system) and its peak memory.
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
from tests.benchmarks.tools import Calsync, Run
from tests.providers.dav.radicale_server import RadicaleServer


def _progress(text: str) -> None:
    print(f"  · {text}", flush=True)


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
        remote_base: str | None = None,
        latency_ms: float = 0.0,
        prefix: str = "u",
        run_records: int = 0,
    ) -> None:
        #: fill each user's runs.json up to this many records after settling (0: leave)
        self.run_records = run_records
        #: user names are PREFIX00000…, so two benchmarks can share one server
        self.prefix = prefix
        self.root = root
        self.server = server
        #: where calsync reaches the server: the latency proxy, or the server itself
        self.remote_base = remote_base or server.url
        self.latency_ms = latency_ms
        self.users = users
        self.items = items
        self.rounds = rounds
        self.jobs = jobs
        self.calsync = Calsync(root / "many")

    def _name(self, n: int) -> str:
        return f"{self.prefix}{n:05d}"

    def _url(self, n: int) -> str:
        return f"{self.remote_base}{USER}/{self._name(n)}/"

    def setup(self) -> None:
        _progress(f"making {self.users} users × {self.items} items (one real, the rest cloned)")
        Dav(self.server.url).upload_calendar(
            f"/{USER}/{self._name(0)}/", calendar_text(self.items, prefix="m")
        )
        cs = self.calsync
        crm_root = cs.root / "crm"
        cs.add_user(self._name(0), crm_root / self._name(0), self._url(0))
        cs("init", self._name(0))
        # state.json, and pairs.json with the pairings (its digest in state.json is
        # the template's; the first settling run of each clone stores its own)
        templates = {
            path.name: path.read_text(encoding="utf-8")
            for path in (cs.user_dir(self._name(0)) / f for f in ("state.json", "pairs.json"))
            if path.exists()
        }
        template_cal = self.server.storage / "collection-root" / USER / self._name(0)
        users: list[dict[str, object]] = []

        def clone(n: int) -> None:
            name = self._name(n)
            shutil.copytree(template_cal, template_cal.parent / name, copy_function=shutil.copy2)
            shutil.copytree(crm_root / self._name(0), crm_root / name, copy_function=shutil.copy2)
            user_dir = cs.user_dir(name)
            user_dir.mkdir(parents=True, mode=0o700)
            for file_name, text in templates.items():
                state = user_dir / file_name
                state.write_text(
                    text.replace(f"/{self._name(0)}/", f"/{name}/")
                    .replace(f'/{self._name(0)}"', f'/{name}"')
                    .replace(f"/{self._name(0)}#", f"/{name}#"),
                    encoding="utf-8",
                )
                state.chmod(0o600)

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(clone, range(1, self.users)))
        template_user = json.loads((cs.ws / "users.json").read_text(encoding="utf-8"))["users"]["1"]
        for n in range(1, self.users):
            record = {k: template_user.get(k) for k in USER_KEYS}
            record.update(
                name=self._name(n),
                crm=f"folder:{crm_root / self._name(n)}",
                remote=f"caldav:{self._url(n)}",
            )
            users.append(record)
        db = open_db(Workspace(cs.ws).users_path)
        db.table("users").insert_multiple(users)
        _progress("settling every user with one untimed sync --all")
        _got, _users = self._sync_all(max(self.jobs))
        got, _users = self._sync_all(max(self.jobs))  # settled: a second one changes nothing
        totals = json.loads(got.output)["totals"]
        if totals.get("ok") != self.users:
            raise RuntimeError(f"settling sync --all: {totals}")
        if self.run_records:
            _progress(f"giving every user {self.run_records} run records")
            for n in range(self.users):
                self._fill_runs(cs.user_dir(self._name(n)) / "runs.json")

    def _fill_runs(self, path: Path) -> None:
        """Older job runs before the real ones, up to `run_records` in all: the history
        a fleet reaches after as many meaningful runs (each a change: consecutive quiet
        runs share one record, kept in last-run.json, storage/run_history.py)."""
        data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {"runs": {}}
        real = sorted(data["runs"].values(), key=lambda r: str(r["started"]))
        tail = path.with_name("last-run.json")
        newest = json.loads(tail.read_text(encoding="utf-8"))["run"]["1"] if tail.exists() else None
        template = newest or real[-1]
        changed = {"crm": {"create": 0, "update": 1, "delete": 0}}
        changed["remote"] = {"create": 0, "update": 0, "delete": 0}
        older = []
        in_history = self.run_records - (1 if newest else 0)
        for i in range(max(0, in_history - len(real))):
            stamp = f"2020-01-01T{i // 60:02d}:{i % 60:02d}:00+00:00"
            older.append(
                {
                    **{k: v for k, v in template.items() if k not in ("repeats", "since")},
                    "id": f"20200101T{i:06d}Z-000000",
                    "started": stamp,
                    "finished": stamp,
                    "counts": changed,
                }
            )
        data["runs"] = {str(i): r for i, r in enumerate([*older, *real], 1)}
        path.write_text(
            json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8"
        )

    def _sync_all(self, jobs: int, *extra: str) -> tuple[Run, int]:
        """One timed `sync --all`; (the run, how many users it ran). Warns unless no-change."""
        got = self.calsync(
            "sync",
            "--all",
            "--quiet",
            "--json",
            "--jobs",
            str(jobs),
            *extra,
            check=False,
            memory=True,
        )
        try:
            summary = json.loads(got.output)
        except ValueError:
            raise RuntimeError(f"sync --all said:\n{got.output[-3000:]}") from None
        totals = summary["totals"]
        users = int(totals["users"])
        changed = sum(sum(ops.values()) for ops in summary["counts"].values())
        if totals.get("ok") != users or changed:
            _progress(
                f"warning: sync --all --jobs {jobs} {' '.join(extra)}: {totals}, {changed} changes"
            )
        return got, users

    def run(self, report: Report) -> None:
        per_jobs: dict[int, list[float]] = {j: [] for j in self.jobs}
        cpu: dict[int, list[float]] = {j: [] for j in self.jobs}
        peaks: dict[int, list[float]] = {j: [] for j in self.jobs}
        for n in range(self.rounds):
            for jobs in self.jobs:
                got, users = self._sync_all(jobs)
                per_jobs[jobs].append(users / got.seconds)
                cpu[jobs].append(got.cpu / users * 1000)
                peaks[jobs].append(got.peak_mb)
                _progress(
                    f"round {n + 1}: --jobs {jobs}: {secs(got.seconds)}, "
                    f"{users / got.seconds:.1f} users/s, CPU {got.cpu:.2f} s "
                    f"({got.cpu / users * 1000:.1f} ms/user), peak {got.peak_mb:.0f} MB"
                )
        # start-up (interpreter, imports: ~0.3 s) is paid once per process: the CPU of
        # one more user is the difference between all users and a quarter of them
        marginal: list[float] = []
        for _ in range(self.rounds):
            part, few = self._sync_all(max(self.jobs), "--shard", "1/4")
            whole, users = self._sync_all(max(self.jobs))
            marginal.append((whole.cpu - part.cpu) / (users - few) * 1000)
            _progress(
                f"CPU: {whole.cpu:.2f} s for {users} users, {part.cpu:.2f} s for {few} "
                f"(--shard 1/4): {marginal[-1]:.2f} ms per added user"
            )
        one, many = min(self.jobs), max(self.jobs)
        where = f"{self.users}×{self.items}, {self.latency_ms:.0f} ms"
        for jobs in self.jobs:
            report.add(
                "4 fleet", f"{where}, --jobs {jobs}", f"{median(per_jobs[jobs]):.1f} users/s"
            )
        for jobs in self.jobs:
            if jobs == one:
                continue
            speedup = median(per_jobs[jobs]) / median(per_jobs[one])
            target = 6.0 if jobs == 16 else None
            report.add(
                "4 fleet",
                f"--jobs {jobs} vs --jobs {one}",
                "",
                "",
                f"{speedup:.2f}×",
                "≥ 6×" if target else "",
                verdict(speedup >= target) if target else "",
            )
        for jobs in self.jobs:
            per_user = median(cpu[jobs])
            report.add(
                "4 fleet",
                f"calsync CPU per user (user+sys, start-up included), --jobs {jobs}",
                f"{per_user:.1f} ms",
                "",
                "",
                "≤ 5 ms",
                verdict(per_user <= 5.0),
            )
        report.add(
            "4 fleet",
            "calsync CPU per added user (all users minus --shard 1/4)",
            f"{median(marginal):.2f} ms",
            "",
            "",
            "≤ 5 ms",
            verdict(median(marginal) <= 5.0),
        )
        for jobs in self.jobs[:-1]:
            report.add("4 fleet", f"peak memory, --jobs {jobs}", f"{max(peaks[jobs]):.0f} MB")
        peak = max(peaks[many])
        report.add(
            "4 fleet",
            f"peak memory, --jobs {many}",
            f"{peak:.0f} MB",
            "",
            "",
            "< 300 MB",
            verdict(peak < 300, f"{300 / peak:.1f}× under") if peak < 300 else verdict(False),
        )

    def scale(self, report: Report, jobs: int, part: int = 10) -> None:
        """One whole no-change cycle of every user, and of about 1/`part` of them
        (`--shard 1/part`): the time per user must not grow with the number of users."""
        rows: list[tuple[str, int, Run]] = []
        for extra in (("--shard", f"1/{part}"), ()):
            got, users = self._sync_all(jobs, *extra)
            what = " ".join(extra) or "all users"
            rows.append((what, users, got))
            _progress(
                f"scale: {what} ({users} users) --jobs {jobs}: {secs(got.seconds)}, "
                f"{got.seconds / users * 1000:.1f} ms/user, CPU {got.cpu / users * 1000:.1f} "
                f"ms/user, peak {got.peak_mb:.0f} MB"
            )
        where = f"{self.items} items, {self.latency_ms:.0f} ms, --jobs {jobs}"
        for what, users, got in rows:
            report.add(
                "7 scale",
                f"{users} users ({what}), {where}: wall / per user / CPU per user",
                f"{secs(got.seconds)} / {got.seconds / users * 1000:.1f} ms / "
                f"{got.cpu / users * 1000:.1f} ms",
            )
        (_, small, few), (_, big, whole) = rows
        growth = (whole.seconds / big) / (few.seconds / small)
        report.add(
            "7 scale",
            f"time per user, {big} vs {small} users",
            "",
            "",
            f"{growth:.2f}×",
            "not growing (≈ 1×)",
            verdict(growth <= 1.15),
        )
        report.add(
            "7 scale",
            f"whole no-change cycle of {big} users",
            secs(whole.seconds),
            "",
            "",
            "< 5 min",
            verdict(whole.seconds < 300),
        )
        report.add(
            "7 scale",
            f"peak memory, {big} users",
            f"{whole.peak_mb:.0f} MB",
            "",
            "",
            "< 500 MB",
            verdict(whole.peak_mb < 500),
        )
