"""`chaos-docker`: list or remove what pytest-chaos runs left in Docker (found by label)."""

from __future__ import annotations

import argparse
import sys

from chaos.runtime.docker.errors import DockerError
from chaos.runtime.docker.session import MANAGED, RUN, cleanup, connect, leftovers

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="chaos-docker",
        description=f"{__doc__} Objects carry the labels {MANAGED}=true and {RUN}=<run id>.",
    )
    p.add_argument("command", choices=("ls", "clean"), help="list, or remove, labelled objects")
    p.add_argument("--run", help="only the objects of this run id (default: of every run)")
    args = p.parse_args(argv)
    try:
        client = connect(timeout=30)
        found = (cleanup if args.command == "clean" else leftovers)(client, args.run)
    except DockerError as exc:
        print(f"chaos-docker: {exc}", file=sys.stderr)
        return 2
    verb = "removed" if args.command == "clean" else "found"
    total = sum(len(names) for names in found.values())
    for kind, names in found.items():
        for name in names:
            print(f"{verb} {kind[:-1]} {name}")
    print(f"chaos-docker: {total} object(s) {verb}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
