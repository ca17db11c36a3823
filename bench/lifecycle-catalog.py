#!/usr/bin/env python3
"""Fill a kiln catalog for the benchmarks: F families x V monthly versions and
D deployments, 10% of them on a version that is expired at 2026-01-20."""
import sqlite3, sys, time, calendar

path, families, versions, deployments = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
db = sqlite3.connect(path)
db.execute("PRAGMA journal_mode=WAL")
db.execute("PRAGMA synchronous=OFF")
vers = []
y, m = 2025, 12
for _ in range(versions):
    vers.append((y, m))
    m -= 1
    if m == 0:
        y, m = y - 1, 12
vers.reverse()
rows = []
for f in range(families):
    for (y, m) in vers:
        rows.append((f"f{f:02d}", f"{y}.{m:02d}.0", y, m, 0, calendar.timegm((y, m, 5, 0, 0, 0)), "0" * 64, "bench", 3))
db.executemany("INSERT INTO versions (family, version, y, m, r, released, manifest_sha256, signer, security_updates)"
               " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
now = calendar.timegm((2026, 1, 10, 0, 0, 0))
def deps():
    for i in range(deployments):
        f = f"f{i % families:02d}"
        v = "2025.09.0" if i % 10 == 0 else "2025.12.0"   # 2025.09.0 expired on 2025-12-05
        yield (f"t{i % 1000}", f"d{i}", f, v, 0, now, now)
db.executemany("INSERT INTO deployments (tenant, name, family, version, auto_update, created, updated)"
               " VALUES (?, ?, ?, ?, ?, ?, ?)", deps())
db.commit()
db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
db.close()
