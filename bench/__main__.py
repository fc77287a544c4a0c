"""`python -m bench [case ...]`: run the cases, print and save the figures.

The exit status is 1 when a figure misses its target, and non-zero too when
a case fails outright (a broken invariant, a server that would not start).
"""

import importlib
import os
import platform
import sys
import time

from bench.report import Figure, print_table, save

CASES = {"signatures": "bench.signatures", "inbox": "bench.inbox", "instructions": "bench.inbox_instructions",
         "delivery": "bench.delivery", "settlement": "bench.settlement", "scaleout": "bench.scale_out",
         "history": "bench.history"}


def machine() -> str:
    return (f"{os.cpu_count()} cores ({platform.machine()}), Python {platform.python_version()} "
            f"({platform.python_implementation()}), {platform.system()} {platform.release()}")


def main(argv: list[str]) -> int:
    unknown = [name for name in argv if name not in CASES]
    if unknown:
        print(f"unknown case(s) {', '.join(unknown)}; choose from {', '.join(CASES)}", file=sys.stderr)
        return 2
    print(f"machine: {machine()}", flush=True)
    figures: list[Figure] = []
    for name in argv or list(CASES):
        print(f"running {name} ...", flush=True)
        start = time.perf_counter()
        figures += importlib.import_module(CASES[name]).run()
        print(f"{name}: {time.perf_counter() - start:.0f} s", flush=True)
    print()
    print_table(figures)
    print(f"\nsaved {save(figures)}")
    below = [f.case for f in figures if not f.passed]
    print(f"below target: {', '.join(below)}" if below else "every figure reaches its target")
    return 1 if below else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
