#!/usr/bin/env python3
"""Measure how long a service binary takes from exec to its "listening on" line.

Usage: bench/service_startup.py BINARY [NAME=VALUE ...] [--runs N]
Each run starts BINARY on a free loopback port with the given extra environment, waits for the
line the SDK prints once the port is bound, then stops it with SIGTERM.
"""
import os
import signal
import statistics
import subprocess
import sys
import time


def main() -> None:
    args = sys.argv[1:]
    runs = 20
    if "--runs" in args:
        index = args.index("--runs")
        runs = int(args[index + 1])
        del args[index : index + 2]
    if not args:
        sys.exit(__doc__)
    binary, assignments = args[0], args[1:]
    env = dict(os.environ, **dict(item.split("=", 1) for item in assignments))

    times_ms = []
    for _ in range(runs):
        start = time.perf_counter()
        process = subprocess.Popen(
            [binary, "--bind-address", "127.0.0.1", "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        line = process.stdout.readline().decode()
        times_ms.append((time.perf_counter() - start) * 1000)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
        if not line.startswith("listening on"):
            sys.exit(f"{binary} printed {line!r} instead of its listening line")

    print(
        f"{os.path.basename(binary)}: median {statistics.median(times_ms):.1f} ms, "
        f"max {max(times_ms):.1f} ms over {runs} starts"
    )


if __name__ == "__main__":
    main()
