"""Private network namespaces for cluster nodes: one per node, one switch, cut by iptables.

Layout of one `Lab` (run id R, subnet 10.231.X.0/24 chosen free on the host):
``chaosnet-R-sw`` holds a bridge; the host reaches it through a veth (host side ``cnX``,
10.231.X.1); each node's namespace ``chaosnet-R-nI`` has ``eth0`` (10.231.X.(10+I)) on that
bridge. The bridge lives in its own namespace, not the host's: bridged traffic there meets an
empty netfilter (Docker's host FORWARD policy is DROP). A partition is iptables DROP rules
inside the node namespaces, so the rules vanish with them. Deleting the namespaces removes
every veth (the host side goes with its peer). If the process dies (SIGKILL), the watchdog runs
``python -m chaos.runtime.netns clean --run R``; ``clean`` alone removes the labs of dead pids.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from chaos.runtime import _procfs
from chaos.runtime._watchdog import watchdog

__all__ = [
    "PREFIX",
    "Lab",
    "NetnsUnavailable",
    "cleanup",
    "leftovers",
    "main",
    "unavailable_reason",
]

PREFIX = "chaosnet-"
_NAME = re.compile(rf"^{PREFIX}(?P<pid>\d+)-(?P<tag>[0-9a-f]+)-(?P<role>\w+)$")
_LOCK = Path("/tmp/chaos-netns.lock")


class NetnsUnavailable(RuntimeError):
    """Network namespaces cannot be made here (not root, no `ip` or `iptables`)."""


def unavailable_reason() -> str | None:
    """Why namespaces cannot be made here, or None if they can."""
    missing = [tool for tool in ("ip", "iptables") if shutil.which(tool) is None]
    if missing:
        return (
            f"{' and '.join(missing)} not found on PATH; hint: `apt-get install iproute2 "
            "iptables` (./run setup does it)"
        )
    if os.geteuid() != 0:
        return (
            f"network namespaces need root (running as uid {os.geteuid()}); hint: run as root, "
            "or use --chaos-backend docker"
        )
    return None


def _run(*argv: str, check: bool = True) -> str:
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    if check and proc.returncode != 0:
        raise NetnsUnavailable(
            f"`{' '.join(argv)}` failed with exit code {proc.returncode}: "
            f"{proc.stderr.strip()[-1000:]}; hint: is this root with iproute2 and iptables?"
        )
    return proc.stdout


def _namespaces() -> list[str]:
    out = _run("ip", "netns", "list", check=False)
    return [line.split()[0] for line in out.splitlines() if line.startswith(PREFIX)]


def _free_subnet() -> int:
    """A third octet X with no 10.231.X.0/24 address on the host (call under the lock)."""
    used = set(re.findall(r"inet 10\.231\.(\d+)\.", _run("ip", "-4", "-o", "addr", "show")))
    for octet in range(1, 255):
        if str(octet) not in used:
            return octet
    raise NetnsUnavailable(
        "no free 10.231.X.0/24 subnet (all 254 in use); hint: "
        "`python -m chaos.runtime.netns clean` removes labs of dead runs"
    )


class Lab:
    """A switch namespace and node namespaces on one /24; ``with Lab(3) as lab:``."""

    def __init__(self, nodes: int, *, run: str | None = None) -> None:
        if nodes < 1 or nodes > 200:
            raise ValueError(f"nodes={nodes!r} must be between 1 and 200")
        reason = unavailable_reason()
        if reason is not None:
            raise NetnsUnavailable(f"cannot make network namespaces: {reason}")
        self.run = run or f"{os.getpid()}-{secrets.token_hex(3)}"
        if not _NAME.match(f"{PREFIX}{self.run}-sw"):
            raise ValueError(f"run={self.run!r} must look like PID-HEX")
        self.size = nodes
        self.octet = 0
        self.namespaces: list[str] = []
        self._blocked: set[tuple[int, int]] = set()
        self._on_death = [sys.executable, "-m", "chaos.runtime.netns", "clean", "--run", self.run]

    @property
    def switch(self) -> str:
        return f"{PREFIX}{self.run}-sw"

    @property
    def host_interface(self) -> str:
        """The host side of the veth to the switch (it goes when the switch namespace goes)."""
        return f"cn{self.octet}-{self.run[-6:]}"[:15]

    @property
    def host_ip(self) -> str:
        """The host's address on the lab's bridge."""
        return f"10.231.{self.octet}.1"

    def ns(self, index: int) -> str:
        """Namespace of node `index` (0-based)."""
        return f"{PREFIX}{self.run}-n{index + 1}"

    def ip(self, index: int) -> str:
        """Address of node `index` (0-based)."""
        return f"10.231.{self.octet}.{10 + index + 1}"

    def exec_prefix(self, index: int) -> list[str]:
        """argv prefix that runs a command inside node `index`'s namespace."""
        return ["ip", "netns", "exec", self.ns(index)]

    def start(self) -> Lab:
        watchdog.on_death(self._on_death)
        try:
            with open(_LOCK, "a") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)  # two runs must not pick the same subnet
                self.octet = _free_subnet()
                self._make_switch()
            for index in range(self.size):
                self._make_node(index)
        except BaseException:
            self.close()
            raise
        return self

    def _make_switch(self) -> None:
        sw, host_if = self.switch, self.host_interface
        _run("ip", "netns", "add", sw)
        self.namespaces.append(sw)
        _run("ip", "-n", sw, "link", "add", "br0", "type", "bridge")
        _run("ip", "-n", sw, "link", "set", "br0", "up")
        _run("ip", "link", "add", host_if, "type", "veth", "peer", "name", "up0", "netns", sw)
        _run("ip", "addr", "add", f"{self.host_ip}/24", "dev", host_if)
        _run("ip", "link", "set", host_if, "up")
        _run("ip", "-n", sw, "link", "set", "up0", "master", "br0", "up")

    def _make_node(self, index: int) -> None:
        ns, port = self.ns(index), f"p{index + 1}"
        _run("ip", "netns", "add", ns)
        self.namespaces.append(ns)
        veth = ["type", "veth", "peer", "name", "eth0", "netns", ns]
        _run("ip", "-n", self.switch, "link", "add", port, *veth)
        _run("ip", "-n", self.switch, "link", "set", port, "master", "br0", "up")
        _run("ip", "-n", ns, "addr", "add", f"{self.ip(index)}/24", "dev", "eth0")
        _run("ip", "-n", ns, "link", "set", "eth0", "up")
        _run("ip", "-n", ns, "link", "set", "lo", "up")

    # -- partitions ------------------------------------------------------------------------------

    def block(self, a: int, b: int) -> None:
        """Drop every packet between nodes `a` and `b` (both directions, in both namespaces)."""
        for here, there in ((a, b), (b, a)):
            if (here, there) in self._blocked:
                continue
            peer = self.ip(there)
            _run(*self._iptables(here), "-I", "INPUT", "-s", peer, "-j", "DROP")
            _run(*self._iptables(here), "-I", "OUTPUT", "-d", peer, "-j", "DROP")
            self._blocked.add((here, there))

    def unblock_all(self) -> None:
        """Remove every rule `block` added."""
        for index in sorted({here for here, _ in self._blocked}):
            _run(*self._iptables(index), "-F", "INPUT")
            _run(*self._iptables(index), "-F", "OUTPUT")
        self._blocked.clear()

    def rules(self, index: int) -> list[str]:
        """The iptables rules of node `index` (``iptables -S``), to check what is in force."""
        return [r for r in _run(*self._iptables(index), "-S").splitlines() if r.startswith("-A")]

    @property
    def blocked(self) -> set[tuple[int, int]]:
        return set(self._blocked)

    def _iptables(self, index: int) -> list[str]:
        return ["ip", "netns", "exec", self.ns(index), "iptables", "-w", "5"]

    # -- teardown --------------------------------------------------------------------------------

    def close(self) -> None:
        """Kill what still runs in the namespaces and delete them (and so every veth)."""
        if self.switch in self.namespaces:
            # A namespace is destroyed later, in a kernel worker: its veths (and so the host's
            # end) linger a moment after `ip netns del`. Deleting the host's end takes both now.
            _run("ip", "link", "del", self.host_interface, check=False)
        _remove(self.namespaces)
        self.namespaces = []
        watchdog.forget_on_death(self._on_death)

    def __enter__(self) -> Lab:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def _remove(namespaces: list[str]) -> None:
    for ns in namespaces:
        for pid in _run("ip", "netns", "pids", ns, check=False).split():
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid), signal.SIGKILL)
        _run("ip", "netns", "del", ns, check=False)


def leftovers(run: str | None = None) -> list[str]:
    """Namespaces of `run` (default: of every run whose process is gone)."""
    found = []
    for ns in _namespaces():
        match = _NAME.match(ns)
        if match is None:
            continue
        mine = run is not None and ns.startswith(f"{PREFIX}{run}-")
        orphan = run is None and not _procfs.pid_alive(int(match["pid"]))
        if mine or orphan:
            found.append(ns)
    return found


def cleanup(run: str | None = None) -> list[str]:
    """Remove the namespaces `leftovers` names; return them."""
    found = leftovers(run)
    _remove(found)
    return found


def main(argv: list[str] | None = None) -> int:
    """`python -m chaos.runtime.netns ls|clean [--run R]`."""
    p = argparse.ArgumentParser(prog="chaos.runtime.netns", description=__doc__)
    p.add_argument("command", choices=("ls", "clean"))
    p.add_argument("--run", help="only this run's namespaces (default: those of dead pids)")
    args = p.parse_args(argv)
    found = (cleanup if args.command == "clean" else leftovers)(args.run)
    for ns in found:
        print(f"{'removed' if args.command == 'clean' else 'found'} {ns}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
