#!/usr/bin/env python3
"""Generates the sample logs in samples/logs/ (deterministic: fixed seed).

The logs tell a small story the demo can ask about: on 14 March 2026 a disk of storage node
arc-02 fails, the nightly backup of that node fails, and the disk is replaced the next day.
Usage: make_sample_logs.py OUT_DIR
"""
import datetime as dt
import os
import random
import sys

rng = random.Random(20260314)
out_dir = sys.argv[1]
start = dt.datetime(2026, 3, 12, 0, 0, 0)
users = ["mkoval", "jtan", "apatel", "svoss"]
lines = []


def syslog(t, proc, msg, host="arc-02"):
    lines.append((t, "%s %2d %s %s %s: %s" % (t.strftime("%b"), t.day, t.strftime("%H:%M:%S"), host, proc, msg)))


for day in range(4):
    base = start + dt.timedelta(days=day)
    for minute in range(0, 24 * 60, 37):
        t = base + dt.timedelta(minutes=minute, seconds=rng.randint(0, 59))
        r = rng.random()
        if r < 0.35:
            syslog(t, "CRON[%d]" % rng.randint(3000, 9000), "(root) CMD (/usr/local/bin/archive-scrub --quick)")
        elif r < 0.6:
            u = rng.choice(users)
            pid = rng.randint(10000, 30000)
            syslog(t, "sshd[%d]" % pid, "Accepted publickey for %s from 10.20.4.%d port %d ssh2" % (u, rng.randint(2, 60), rng.randint(40000, 60000)))
            syslog(t + dt.timedelta(seconds=1), "sshd[%d]" % pid, "pam_unix(sshd:session): session opened for user %s(uid=%d) by (uid=0)" % (u, 1000 + users.index(u)))
        elif r < 0.8:
            syslog(t, "smartd[812]", "Device: /dev/sd%s [SAT], SMART Usage Attribute: 194 Temperature_Celsius changed from %d to %d" % (rng.choice("abcefgh"), rng.randint(30, 34), rng.randint(30, 35)))
        else:
            syslog(t, "systemd[1]", "Started Daily archive integrity report.")
    begin = base + dt.timedelta(hours=1, minutes=30)
    syslog(begin, "bk-agent[2211]", "job nightly-arc-02 started: 1843 changed files, 212.4 GiB to copy to bk-01")
    if day == 2:
        fail = base + dt.timedelta(hours=2, minutes=47, seconds=12)
        syslog(fail, "kernel", "ata4.00: exception Emask 0x0 SAct 0x0 SErr 0x0 action 0x6 frozen")
        syslog(fail + dt.timedelta(seconds=1), "kernel", "ata4.00: failed command: WRITE DMA EXT")
        syslog(fail + dt.timedelta(seconds=3), "kernel", "blk_update_request: I/O error, dev sdd, sector 1953525120 op 0x1:(WRITE)")
        syslog(fail + dt.timedelta(seconds=4), "kernel", "md/raid:md0: Disk failure on sdd, disabling device.")
        syslog(fail + dt.timedelta(seconds=4), "kernel", "md/raid:md0: Operation continuing on 7 devices.")
        syslog(fail + dt.timedelta(seconds=9), "mdadm[901]", "Fail event detected on md device /dev/md0, component device /dev/sdd")
        syslog(fail + dt.timedelta(seconds=9), "mdadm[901]", "DegradedArray event detected on md device /dev/md0")
        syslog(fail + dt.timedelta(minutes=2), "bk-agent[2211]", "job nightly-arc-02 failed: write error on /dev/md0 (Input/output error) after 96.1 GiB")
        syslog(fail + dt.timedelta(minutes=2, seconds=1), "bk-agent[2211]", "alert sent to on-call engineer (extension 4410)")
    else:
        done = base + dt.timedelta(hours=3, minutes=rng.randint(5, 40))
        syslog(done, "bk-agent[2211]", "job nightly-arc-02 finished: 1843 files, 212.4 GiB in %d min" % ((done - begin).seconds // 60))
    if day == 3:
        t = base + dt.timedelta(hours=9, minutes=12)
        syslog(t, "kernel", "md: recovery of RAID array md0")
        syslog(t + dt.timedelta(seconds=2), "mdadm[901]", "RebuildStarted event detected on md device /dev/md0, component device /dev/sdd (replacement disk serial ZL2K9Q4T)")
        syslog(t + dt.timedelta(hours=13, minutes=51), "mdadm[901]", "RebuildFinished event detected on md device /dev/md0")
        syslog(t + dt.timedelta(hours=13, minutes=51, seconds=5), "mdadm[901]", "SpareActive event detected on md device /dev/md0, component device /dev/sdd")

lines.sort(key=lambda x: x[0])
with open(os.path.join(out_dir, "arc-02-syslog.log"), "w") as f:
    for _, text in lines:
        f.write(text + "\n")

# Web access log of the records portal (nginx combined format).
paths = ["/records/search?q=inspection+2019", "/records/view/INS-2019-0441", "/records/view/BIL-2024-1102",
         "/records/export/CUS-2021-0087", "/static/app.css", "/login", "/records/search?q=main+break"]
with open(os.path.join(out_dir, "portal-access.log"), "w") as f:
    t = start
    for _ in range(400):
        t += dt.timedelta(seconds=rng.randint(20, 900))
        path = rng.choice(paths)
        status = 403 if path.startswith("/records/export") and rng.random() < 0.5 else 200
        f.write('10.20.%d.%d - %s [%s +0000] "GET %s HTTP/1.1" %d %d "-" "Mozilla/5.0 (X11; Linux x86_64)"\n' % (
            rng.randint(1, 9), rng.randint(2, 250), rng.choice(users + ["-"]), t.strftime("%d/%b/%Y:%H:%M:%S"),
            path, status, rng.randint(400, 90000)))
