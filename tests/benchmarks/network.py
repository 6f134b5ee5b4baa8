"""A CalDAV server "across a network": Radicale behind the loopback delay proxy.

`DelayedServer` starts `servers - 1` more Radicale processes on the benchmark
server's storage folder (Radicale locks its storage across processes) and the
latency proxy in front of all of them, each as its own process.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from tests.providers.dav.radicale_server import RadicaleServer, start_radicale, stop_radicale


class DelayedServer:
    def __init__(self, root: Path, server: RadicaleServer, *, latency_ms: float, servers: int):
        self.root = root
        self.server = server
        self.latency_ms = latency_ms
        self.servers = max(1, servers)
        self.extra: list[subprocess.Popen[bytes]] = []
        self.proxy: subprocess.Popen[bytes] | None = None
        self.url = ""

    def __enter__(self) -> DelayedServer:
        self.root.mkdir(parents=True, exist_ok=True)
        targets = [self.server.url]
        try:
            for n in range(1, self.servers):
                home = self.root / f"radicale-{n}"
                home.mkdir(exist_ok=True)
                link = home / "collections"
                if not link.exists():
                    link.symlink_to(self.server.storage, target_is_directory=True)
                proc, extra = start_radicale(home)
                self.extra.append(proc)
                targets.append(extra.url)
            port_file = self.root / "proxy.port"
            port_file.unlink(missing_ok=True)
            argv = [sys.executable, "-m", "tests.benchmarks.latency_proxy"]
            argv += ["--latency-ms", str(self.latency_ms), "--port-file", str(port_file)]
            for url in targets:
                argv += ["--target", url]
            self.proxy = subprocess.Popen(argv)
            deadline = time.monotonic() + 30
            while not port_file.exists() or not port_file.read_text().strip():
                if time.monotonic() > deadline or self.proxy.poll() is not None:
                    raise RuntimeError("the latency proxy did not start")
                time.sleep(0.05)
            self.url = f"http://127.0.0.1:{port_file.read_text().strip()}/"
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.proxy is not None:
            self.proxy.terminate()
            self.proxy.wait(timeout=10)
            self.proxy = None
        for proc in self.extra:
            stop_radicale(proc)
        self.extra.clear()
