"""Network namespaces of a cluster: a switch, one namespace per node, cuts, and cleanup."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest

from chaos.runtime import netns

pytestmark = pytest.mark.skipif(
    netns.unavailable_reason() is not None, reason=str(netns.unavailable_reason())
)


def serve(lab: netns.Lab, index: int, port: int) -> subprocess.Popen[str]:
    """A TCP listener inside node `index`'s namespace (60 s at most); prints once it listens."""
    code = (
        "import socket; s = socket.socket(); "
        "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); "
        f"s.bind(({lab.ip(index)!r}, {port})); s.listen(); print('up', flush=True); "
        "s.settimeout(60)\n"
        "while True:\n    s.accept()[0].close()\n"
    )
    proc = subprocess.Popen(
        [*lab.exec_prefix(index), sys.executable, "-c", code], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline() == "up\n"
    return proc


def reaches(lab: netns.Lab, source: int | None, target: int, port: int) -> bool:
    """Can node `source` (None: the host) open a TCP connection to node `target`?"""
    code = (
        "import socket, sys\n"
        f"try:\n    socket.create_connection(({lab.ip(target)!r}, {port}), timeout=1)\n"
        "except OSError:\n    sys.exit(1)\n"
    )
    prefix = [] if source is None else lab.exec_prefix(source)
    return subprocess.run([*prefix, sys.executable, "-c", code], check=False).returncode == 0


def test_nodes_reach_each_other_until_cut_and_again_after_unblock() -> None:
    with netns.Lab(3) as lab:
        assert lab.ip(0) != lab.ip(1) and lab.host_ip.endswith(".1")
        listener = serve(lab, 1, 7001)
        assert reaches(lab, 0, 1, 7001)
        assert reaches(lab, None, 1, 7001)  # the host reaches every node
        lab.block(0, 1)
        assert sum("DROP" in r for r in lab.rules(0)) == 2
        assert sum("DROP" in r for r in lab.rules(1)) == 2
        assert not reaches(lab, 0, 1, 7001)
        assert reaches(lab, 2, 1, 7001)  # a cut between two nodes only
        lab.unblock_all()
        assert lab.rules(0) == [] and lab.rules(1) == []
        assert reaches(lab, 0, 1, 7001)
        listener.kill()
        listener.wait()
        run = lab.run
        assert len(netns.leftovers(run)) == 4  # switch and three nodes
    assert netns.leftovers(run) == []
    # The host's veth went with its peer (its address may be another lab's by now).
    host_link = ["ip", "link", "show", "dev", lab.host_interface]
    assert subprocess.run(host_link, capture_output=True, check=False).returncode != 0


def test_two_labs_at_once_get_different_subnets() -> None:
    labs: list[netns.Lab] = []
    threads = [threading.Thread(target=lambda: labs.append(netns.Lab(1).start())) for _ in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    try:
        assert len(labs) == 2 and labs[0].octet != labs[1].octet
    finally:
        for lab in labs:
            lab.close()


def test_clean_removes_the_labs_of_dead_processes_only() -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    orphan = f"{netns.PREFIX}{dead}-abcdef-n1"
    subprocess.run(["ip", "netns", "add", orphan], check=True)
    with netns.Lab(1) as mine:
        assert orphan in netns.leftovers()
        assert not any(ns.startswith(f"{netns.PREFIX}{mine.run}") for ns in netns.leftovers())
        assert orphan in netns.cleanup()
        assert orphan not in netns.leftovers() and mine.ns(0) in netns.leftovers(mine.run)


def test_without_root_the_error_names_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(netns.os, "geteuid", lambda: 1000)
    with pytest.raises(netns.NetnsUnavailable, match=r"need root .*uid 1000.*hint"):
        netns.Lab(3)
    monkeypatch.setattr(netns.shutil, "which", lambda tool: None)
    assert "ip and iptables not found" in str(netns.unavailable_reason())
    assert "apt-get install iproute2 iptables" in str(netns.unavailable_reason())
