#!/usr/bin/python3
"""proc_sample.py — memory and CPU of some processes over a run, from /proc.

  proc_sample.py INTERVAL_S NAME=PID [NAME=PID ...]

Samples VmRSS every INTERVAL_S until SIGTERM/SIGINT, then prints for each
process one line:
  NAME cpu_s=… cores=… rss_start_mb=… rss_max_mb=… hwm_mb=… threads_max=…
cpu_s is utime+stime (all threads) used between start and stop, cores that
divided by the wall time; hwm_mb is VmHWM, the process's peak resident set
over its whole life (setup included). Standard library only.
"""
import os
import signal
import sys
import time

TICK = os.sysconf("SC_CLK_TCK")


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])        # utime, stime (fields 14, 15)


def status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0]) / 1024.0     # kB -> MiB
            elif key == "Threads":
                out[key] = int(value)
    return out


def main():
    interval = float(sys.argv[1])
    procs = [arg.split("=", 1) for arg in sys.argv[2:]]
    start = {name: cpu_ticks(pid) for name, pid in procs}
    first = {name: status(pid) for name, pid in procs}
    rss_max = {name: first[name]["VmRSS"] for name, _ in procs}
    threads_max = {name: first[name]["Threads"] for name, _ in procs}
    t0 = time.monotonic()
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    last = {}
    while not stop:
        for name, pid in procs:
            try:
                s = status(pid)
                ticks = cpu_ticks(pid)
            except OSError:
                continue
            if "VmRSS" not in s:        # exited, not yet reaped
                continue
            last[name] = (ticks, s)
            rss_max[name] = max(rss_max[name], s["VmRSS"])
            threads_max[name] = max(threads_max[name], s["Threads"])
        time.sleep(interval)
    wall = time.monotonic() - t0
    for name, _ in procs:
        ticks, s = last.get(name, (start[name], first[name]))
        cpu = (ticks - start[name]) / TICK
        print(f"{name} cpu_s={cpu:.2f} cores={cpu / wall:.2f} rss_start_mb={first[name]['VmRSS']:.1f}"
              f" rss_max_mb={rss_max[name]:.1f} hwm_mb={s['VmHWM']:.1f}"
              f" threads_max={threads_max[name]} wall_s={wall:.1f}", flush=True)


if __name__ == "__main__":
    main()
