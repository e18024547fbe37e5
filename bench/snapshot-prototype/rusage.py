# Runs a command and writes "<wall ms> <CPU ms, user + system>" of it to the file named first.
# Python for os.wait4: Node has no way to read a child's CPU time (process.cpuUsage is its own).
#   python3 rusage.py OUT CMD [ARG...]
import os
import sys
import time

out = sys.argv[1]
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
wall = (time.perf_counter() - start) * 1000
with open(out, 'w') as f:
    f.write(f"{wall:.3f} {(usage.ru_utime + usage.ru_stime) * 1000:.3f}\n")
sys.exit(os.waitstatus_to_exitcode(status))
