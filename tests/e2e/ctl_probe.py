#!/usr/bin/env python3
"""A raw client of brum's control socket for tests/e2e/test_ctl_socket.sh (docs/PROTOCOL.md).

Each command prints "ok - WHAT" or "FAIL - WHAT: why" per check (the shell counts them) and
exits 0 unless it could not run at all.

  ctl_probe.py protocol SOCK         framing, hello, errors, a 2 MiB line
  ctl_probe.py flood SOCK DONE       a client that never reads its replies is dropped while
                                     others' ps round trips answer promptly; creates DONE at the end
  ctl_probe.py many SOCK N           N concurrent clients, each hello + ps
  ctl_probe.py peer SOCK             (run as another user) the connection closes unanswered
  ctl_probe.py calls SOCK NAME       pending calls: a wait answered after a restart (the
                                     supervisor's observer), deadlines, cancel, a disconnect with a
                                     call pending, a long poll; then quit
  ctl_probe.py call SOCK JSON...     hello, then each request; prints each reply
"""
import json
import os
import select
import socket
import sys
import threading
import time

TIMEOUT = 30.0  # generous: sanitizer builds on a loaded machine


def ok(what):
    print(f"ok - {what}", flush=True)


def fail(what, why):
    print(f"FAIL - {what}: {why}", flush=True)


class Conn:
    def __init__(self, path, timeout=TIMEOUT):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(path)
        self.buf = b""

    def send(self, data):
        if not isinstance(data, bytes):
            data = json.dumps(data).encode()
        self.s.sendall(data + b"\n")

    def recv(self):
        """The next message, or None at EOF."""
        while b"\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def call(self, data):
        self.send(data)
        return self.recv()

    def hello(self):
        return self.call({"id": "h", "op": "hello", "protocol": 1, "client": "ctl"})

    def close(self):
        self.s.close()


def expect(what, reply, code=None, id_=None, check_id=True):
    """A reply with error `code` (None: ok) and the given id."""
    if reply is None:
        return fail(what, "the connection closed")
    if check_id and reply.get("id") != id_:
        return fail(what, f"id {reply.get('id')!r}, expected {id_!r}: {reply}")
    if code is None:
        if reply.get("ok") is not True:
            return fail(what, f"not ok: {reply}")
    elif reply.get("ok") is not False or reply.get("error", {}).get("code") != code:
        return fail(what, f"expected error {code}: {reply}")
    return ok(what)


def protocol(path):
    c = Conn(path)
    expect("before hello: bad_request", c.call({"id": 1, "op": "ps"}), "bad_request", 1)
    expect("malformed JSON: bad_request, id null", c.call(b'{"id":2,"op":'), "bad_request", None)
    expect("not an object: bad_request, id null", c.call(b"[1,2]"), "bad_request", None)
    expect("no op: bad_request echoes the id", c.call({"id": "x"}), "bad_request", "x")
    r = c.hello()
    expect("hello", r, None, "h")
    if r and r.get("ok"):
        good = (r.get("protocol") == 1 and r.get("pid") and r.get("root") and r.get("kind")
                and r.get("version") and r.get("started_ms"))
        (ok if good else lambda w: fail(w, r))("hello reply names the instance")
    expect("hello twice: bad_request", c.hello(), "bad_request", "h")
    expect("ps after hello", c.call({"id": 3, "op": "ps"}), None, 3)
    r = c.call({"id": 4, "op": "no-such-op"})
    expect("unknown op", r, "unknown_op", 4)
    if r and "ps" not in r.get("error", {}).get("message", ""):
        fail("unknown op lists the operations", r)
    expect("cancel of nothing: not_found", c.call({"id": 5, "op": "cancel", "target": 99}),
           "not_found", 5)
    # a blank line is no request: the next reply is the next request's
    c.send(b"")
    expect("blank line ignored", c.call({"id": 6, "op": "ps"}), None, 6)
    # a 2 MiB line: too_long once, the rest drained, the connection still usable
    t0 = time.monotonic()
    c.send(b'{"id":7,"op":"ps","pad":"' + b"a" * (2 << 20) + b'"}')
    expect("2 MiB line: too_long with id null", c.recv(), "too_long", None)
    expect("after the 2 MiB line: usable", c.call({"id": 8, "op": "ps"}), None, 8)
    # two requests in one write, and one request split over writes
    c.send(b'{"id":9,"op":"ps"}\n{"id":10,"op":"ps"}')
    r1, r2 = c.recv(), c.recv()
    ids = sorted(str(r.get("id")) for r in (r1, r2) if r)
    (ok if ids == ["10", "9"] else lambda w: fail(w, ids))("two requests in one write")
    c.s.sendall(b'{"id":11,')  # two writes (the unit test splits lines at every byte)
    expect("a request split over two writes", c.call(b'"op":"ps"}'), None, 11)
    print(f"# took {time.monotonic() - t0:.2f}s", flush=True)
    c.close()

    c = Conn(path)
    r = c.call({"id": 1, "op": "hello", "protocol": 99, "client": "ctl"})
    expect("protocol mismatch: error version", r, "version", 1)
    if r and "99" not in r["error"]["message"]:
        fail("version error names both versions", r)
    try:
        c.send({"id": 2, "op": "ps"})
        r = c.recv()
    except (ConnectionResetError, BrokenPipeError):
        r = None
    (ok if r is None else lambda w: fail(w, r))("protocol mismatch closes the connection")
    c.close()


def flood(path, done):
    """A client that sends many requests and never reads: the server must drop it, never wait for
    it, while another client's round trips answer promptly."""
    hog = Conn(path)
    hog.hello()
    stop = threading.Event()

    def hog_send():
        req = b"".join(b'{"id":%d,"op":"ps"}\n' % i for i in range(20000))
        try:
            while not stop.is_set():
                hog.s.sendall(req)
        except OSError:
            pass  # dropped by the server: what this test expects

    th = threading.Thread(target=hog_send, daemon=True)
    th.start()
    c = Conn(path)
    c.hello()
    worst = 0.0
    bad = None
    for i in range(40):
        t0 = time.monotonic()
        r = c.call({"id": i, "op": "ps"})
        worst = max(worst, time.monotonic() - t0)
        if not r or not r.get("ok") or r.get("id") != i:
            bad = r
            break
    if bad is None:
        ok(f"40 ps round trips during the flood (slowest {worst:.3f}s)")
    else:
        fail("ps round trips during the flood", bad)
    limit = 5.0
    (ok if worst < limit else lambda w: fail(w, f"{worst:.3f}s"))(
        f"every round trip under {limit}s")
    # the hog is dropped: the server closes its end (POLLHUP). Never read here: reading would
    # drain the queue the server drops it for, and a slow server would never reach its limit.
    deadline = time.monotonic() + TIMEOUT
    pl = select.poll()
    pl.register(hog.s, select.POLLHUP)
    dropped = False
    while time.monotonic() < deadline and not dropped:
        dropped = any(ev & (select.POLLHUP | select.POLLERR) for _, ev in pl.poll(500))
    stop.set()
    (ok if dropped else lambda w: fail(w, "still connected"))("a client that never reads is dropped")
    expect("still answering after the drop", c.call({"id": "last", "op": "ps"}), None, "last")
    c.close()
    hog.close()
    open(done, "w").close()


def many(path, n):
    barrier = threading.Barrier(n)
    results = [None] * n

    def one(i):
        try:
            c = Conn(path)
            barrier.wait(timeout=TIMEOUT)
            h = c.hello()
            r = c.call({"id": i, "op": "ps"})
            results[i] = bool(h and h.get("ok") and r and r.get("ok") and r.get("id") == i)
            c.close()
        except Exception as e:  # noqa: BLE001 - any failure of a client is a failed check
            results[i] = repr(e)

    ths = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    t0 = time.monotonic()
    for t in ths:
        t.start()
    for t in ths:
        t.join(TIMEOUT * 2)
    good = sum(1 for r in results if r is True)
    if good == n:
        ok(f"{n} concurrent clients: hello + ps each ({time.monotonic() - t0:.2f}s)")
    else:
        fail(f"{n} concurrent clients", f"{good} succeeded; e.g. {[r for r in results if r is not True][:3]}")


def peer(path):
    try:
        c = Conn(path)
    except OSError as e:
        return fail("another user connects (needs the socket to be reachable)", repr(e))
    try:
        r = c.hello()
    except (ConnectionResetError, BrokenPipeError):
        r = None
    (ok if r is None else lambda w: fail(w, r))("another user's connection closed unanswered")


def calls(path, name):
    a, b = Conn(path), Conn(path)
    a.hello()
    b.hello()
    # a wait that a change answers: the restart prints the first line again
    a.send({"id": "w1", "op": "wait", "name": name, "pattern": "^held$", "timeout_s": 60,
            "fail_on_exit": False})
    expect("restart through the socket", b.call({"id": 1, "op": "restart", "names": [name]}), None, 1)
    r = a.recv()
    expect("a pending wait answered after the restart", r, None, "w1")
    if r and r.get("matched") is not True:
        fail("the wait matched", r)
    # a deadline: the timer answers
    t0 = time.monotonic()
    r = a.call({"id": "w2", "op": "wait", "name": name, "pattern": "never-printed", "timeout_s": 1})
    took = time.monotonic() - t0
    expect("a wait's deadline: error timeout", r, "timeout", "w2")
    (ok if 0.9 <= took < 10 else lambda w: fail(w, f"{took:.2f}s"))(f"after about 1 s ({took:.2f}s)")
    # cancel: the call replies cancelled, the cancel ok (in any order)
    a.send({"id": "w3", "op": "wait", "name": name, "pattern": "never-printed", "timeout_s": 600})
    a.send({"id": "c3", "op": "cancel", "target": "w3"})
    got = {}
    for _ in range(2):
        r = a.recv()
        if r:
            got[r.get("id")] = r
    expect("cancel: ok", got.get("c3"), None, "c3")
    expect("cancel: the call says cancelled", got.get("w3"), "cancelled", "w3")
    expect("cancel again: not_found", a.call({"id": "c4", "op": "cancel", "target": "w3"}),
           "not_found", "c4")
    # a long poll that ends at its deadline
    r = a.call({"id": "l1", "op": "logs", "name": name})
    cur = r.get("next_cursor") if r else None
    t0 = time.monotonic()
    r = a.call({"id": "l2", "op": "logs", "name": name, "cursor": cur, "wait_s": 1})
    took = time.monotonic() - t0
    expect("logs long poll: answered at its deadline", r, None, "l2")
    (ok if r and r.get("lines") == [] and 0.9 <= took < 10 else lambda w: fail(w, f"{took:.2f}s {r}"))(
        "logs long poll: no lines after about 1 s")
    # a client that leaves with calls pending: freed, the others still served
    a.send({"id": "w5", "op": "wait", "name": name, "pattern": "never-printed", "timeout_s": 600})
    a.send({"id": "s5", "op": "subscribe"})
    expect("subscribe", a.recv(), None, "s5")
    a.close()
    expect("served after a client left with calls pending", b.call({"id": 2, "op": "ps"}), None, 2)
    # a half-closed client still gets its replies
    h = Conn(path)
    h.send({"id": 0, "op": "hello", "protocol": 1, "client": "ctl"})
    h.send({"id": 1, "op": "ps"})
    h.s.shutdown(socket.SHUT_WR)
    r0, r1 = h.recv(), h.recv()
    expect("half-closed: hello answered", r0, None, 0)
    expect("half-closed: ps answered", r1, None, 1)
    (ok if h.recv() is None else lambda w: fail(w, "more"))("half-closed: then the server closes")
    h.close()
    expect("quit", b.call({"id": 3, "op": "quit"}), None, 3)
    b.close()


def call(path, reqs):
    c = Conn(path)
    print(json.dumps(c.hello()))
    for r in reqs:
        print(json.dumps(c.call(r.encode())), flush=True)
    c.close()


def main():
    cmd, path = sys.argv[1], sys.argv[2]
    if cmd == "protocol":
        protocol(path)
    elif cmd == "flood":
        flood(path, sys.argv[3])
    elif cmd == "many":
        many(path, int(sys.argv[3]))
    elif cmd == "peer":
        peer(path)
    elif cmd == "calls":
        calls(path, sys.argv[3])
    elif cmd == "call":
        call(path, sys.argv[3:])
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
