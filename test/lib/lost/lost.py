"""lost.py - a PyMySQL client that reports what it sees when its server goes away mid-statement.

    python3 lost.py HOST PORT MODE SQL      (LOST_USER, LOST_PASS, LOST_DB)

Run it with Debian's interpreter (/usr/bin/python3, python3-pymysql). The arguments and the
output are those of lost.c (see there); modes: once, loop, rows (an unbuffered SSCursor, a line
a row), lazy (an SSCursor whose rows are read once stdin has a line). The error line names the
exception class in place of the SQLSTATE, which PyMySQL does not keep:
"err 2013 OperationalError Lost connection to MySQL server during query".
"""

import os
import sys
import time

import pymysql
import pymysql.cursors


def say(line):
    print(line, flush=True)


def now_ms():
    return int(time.monotonic() * 1000)


def connect(host, port):
    return pymysql.connect(
        host=host,
        port=port,
        user=os.environ.get("LOST_USER") or "app",
        password=os.environ.get("LOST_PASS") or "app",
        database=os.environ.get("LOST_DB") or "test",
        connect_timeout=10,
        read_timeout=60,
        autocommit=True,
    )


def describe(e):
    code = e.args[0] if e.args and isinstance(e.args[0], int) else 0
    msg = " ".join(str(a) for a in e.args[1:]) if code else str(e)
    return "%d %s %s" % (code, type(e).__name__, msg.replace("\n", " "))


def run(conn, mode, sql):
    cls = pymysql.cursors.SSCursor if mode in ("rows", "lazy") else pymysql.cursors.Cursor
    cur = conn.cursor(cls)
    try:
        cur.execute(sql)
        if mode == "lazy":
            sys.stdin.readline()
        n = 0
        for row in cur:
            if mode == "rows":
                n += 1
                say("row %d %d" % (n, len(str(row[0]))))
    finally:
        # Not "with": closing an SSCursor reads the rest of its result, and on a lost
        # connection PyMySQL 1.0 raises AttributeError there, hiding the real error.
        try:
            cur.close()
        except Exception:  # pylint: disable=broad-except
            pass


def main():
    if len(sys.argv) != 5 or sys.argv[3] not in ("once", "loop", "rows", "lazy"):
        print("usage: lost.py HOST PORT once|loop|rows|lazy SQL", file=sys.stderr)
        return 2
    host, port, mode, sql = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    try:
        conn = connect(host, port)
        say("connected %d" % conn.thread_id())
    except Exception as e:  # pylint: disable=broad-except
        say("connect fail " + describe(e))
        return 1
    say("sent")
    n = 0
    try:
        while True:
            run(conn, mode, sql)
            n += 1
            if mode != "loop":
                break
            time.sleep(0.01)
        say("done")
    except Exception as e:  # pylint: disable=broad-except
        say("err " + describe(e))
    t_err = now_ms()
    say("count %d" % n)
    try:
        conn.close()
    except Exception:  # pylint: disable=broad-except
        pass

    deadline = now_ms() + 1000 * int(os.environ.get("LOST_RECONNECT_S") or 10)
    last = "0 -"
    while True:
        try:
            c = connect(host, port)
            with c.cursor() as cur:
                cur.execute("SELECT 1")
            c.close()
            say("reconnect ok %d %d" % (now_ms() - t_err, int(time.time() * 1000)))
            return 0
        except Exception as e:  # pylint: disable=broad-except
            last = describe(e)
        if now_ms() >= deadline:
            break
        time.sleep(0.05)
    say("reconnect fail " + last)
    return 0


if __name__ == "__main__":
    sys.exit(main())
