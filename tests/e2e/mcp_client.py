#!/usr/bin/env python3
"""An MCP client speaking raw JSON-RPC over stdio to `brum mcp` (test_mcp.sh runs it; it needs
nothing but python3). Prints "ok - ..." / "FAIL - ..." per check and exits non-zero on a failure.

usage: mcp_client.py MODE BRUM PROJECT
  full    2025-06-18: every tool, concurrency, cancellation, errors, the size cap
  legacy  2025-03-26 with --read-only: batches, text-only results, the reading tools only
  attach  a brum already runs for PROJECT: brum mcp drives it (its ticker is running)
  reconnect PID: the brum PID runs for PROJECT: brum mcp attaches, PID is stopped (calls fail,
          saying what to do), another brum starts and the next call reaches it
Every read has a deadline: nothing here sleeps and hopes."""
import json
import queue
import subprocess
import sys
import threading
import time

import os
import signal

MODE, BRUM, PROJ = sys.argv[1:4]
failed = 0


def check(name, cond, detail=""):
    global failed
    if cond:
        print(f"ok - {name}")
    else:
        failed += 1
        print(f"FAIL - {name} {detail}")
    sys.stdout.flush()


args = [BRUM, "mcp", "-d", PROJ]
if MODE not in ("attach", "reconnect"):
    args.insert(2, "--shell")
if MODE == "legacy":
    args.append("--read-only")
proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                        encoding="utf-8")
lines = queue.Queue()


def reader():
    for line in proc.stdout:
        lines.put(line)
    lines.put(None)


threading.Thread(target=reader, daemon=True).start()
seen = []  # every message read, in order
pending = {}  # replies read while waiting for another id


def send_raw(text):
    proc.stdin.write(text + "\n")
    proc.stdin.flush()


def send(msg):
    send_raw(json.dumps(msg))


def next_msg(timeout=60):
    line = lines.get(timeout=timeout)
    if line is None:
        raise EOFError("brum mcp closed stdout")
    msg = json.loads(line)  # stdout carries nothing but JSON-RPC
    seen.append(msg)
    return msg


def wait_id(rid, timeout=60):
    deadline = time.monotonic() + timeout
    while rid not in pending:
        m = next_msg(max(0.1, deadline - time.monotonic()))
        pending[m.get("id") if isinstance(m, dict) else "batch"] = m
    return pending.pop(rid)


next_id = [100]


def request(method, params=None):
    next_id[0] += 1
    msg = {"jsonrpc": "2.0", "id": next_id[0], "method": method}
    if params is not None:
        msg["params"] = params
    send(msg)
    return wait_id(next_id[0])


def call(name, arguments=None):
    r = request("tools/call", {"name": name, "arguments": arguments or {}})
    res = r["result"]
    text = res["content"][0]["text"]
    return res, text


def initialize(version):
    r = request("initialize", {"protocolVersion": version, "capabilities": {},
                               "clientInfo": {"name": "brum-e2e", "version": "1"}})
    send({"jsonrpc": "2.0", "method": "notifications/initialized"})
    return r["result"]


def full():
    init = initialize("2025-06-18")
    check("initialize: 2025-06-18 agreed", init["protocolVersion"] == "2025-06-18", init)
    check("initialize: serverInfo is brum", init["serverInfo"]["name"] == "brum")
    check("ping after notifications/initialized (which got no reply)",
          request("ping") == {"jsonrpc": "2.0", "id": next_id[0], "result": {}})
    tools = request("tools/list")["result"]["tools"]
    names = {t["name"] for t in tools}
    check("tools/list: every tool", names >= {"list_processes", "start_process", "stop_process",
                                              "restart_process", "read_logs", "search_logs",
                                              "get_errors", "wait_for_log"}, names)
    check("tools/list: schemas and annotations",
          all("inputSchema" in t and "outputSchema" in t and
              t["annotations"]["openWorldHint"] is False for t in tools))

    t0 = time.monotonic()
    res, text = call("start_process", {"name": "web"})
    sc = res.get("structuredContent", {})
    check("start_process web: ready when it returns", sc.get("state") == "running" and
          sc.get("ready") is True, text[:300])
    check("start_process web: its first lines",
          any("Local:" in l["text"] for l in sc.get("lines", [])), text[:500])
    check("start_process web: the URL", "http://localhost:5198/" in sc["process"].get("urls", []))
    check("start_process web: text content is the same JSON", json.loads(text) == sc)
    check("start_process web: returned in time", time.monotonic() - t0 < 30)
    res, text = call("start_process", {"name": "web"})
    check("start_process again: nothing doubled", "already running" in text, text[:300])

    res, text = call("start_process", {"name": "ticker"})
    check("start_process ticker: running", res["structuredContent"]["state"] == "running", text)
    res, text = call("wait_for_log", {"name": "ticker", "pattern": "^tick 5$", "from": "start"})
    check("wait_for_log: matched", res["structuredContent"].get("matched") is True, text)
    res, text = call("read_logs", {"name": "ticker", "tail": 3})
    first = res["structuredContent"]
    check("read_logs tail 3: three lines", len(first["lines"]) == 3, text)
    cursor, last_n = first["next_cursor"], first["lines"][-1]["n"]
    res, text = call("wait_for_log", {"name": "ticker", "pattern": "tick", "from": cursor})
    check("wait_for_log from a cursor: the next line", res["structuredContent"].get("matched") and
          res["structuredContent"]["line"]["n"] == last_n + 1, text)
    res, text = call("read_logs", {"name": "ticker", "cursor": cursor})
    ns = [l["n"] for l in res["structuredContent"]["lines"]]
    check("read_logs with cursor: only newer lines, none missing",
          ns and ns[0] == last_n + 1 and ns == list(range(ns[0], ns[0] + len(ns))), ns)
    res2, _ = call("read_logs", {"name": "ticker", "cursor": res["structuredContent"]["next_cursor"]})
    ns2 = [l["n"] for l in res2["structuredContent"]["lines"]]
    check("read_logs with the next cursor: no repeats", not ns2 or ns2[0] == ns[-1] + 1, (ns, ns2))

    res, text = call("search_logs", {"pattern": "^tick [0-9]+$", "regex": True, "name": "ticker",
                                     "limit": 2})
    m = res["structuredContent"]["matches"]
    check("search_logs: newest first", len(m) == 2 and m[0]["n"] > m[1]["n"], text[:300])
    res, text = call("search_logs", {"pattern": "(", "regex": True})
    check("search_logs bad regex: isError that says how to fix it",
          res["isError"] and "regex: false" in text, text)
    res, text = call("search_logs", {"pattern": "Local:"})
    # the child's line, and the banner line that quotes the script's text ("> echo ... Local: ...")
    found = [x["text"] for x in res["structuredContent"]["matches"]]
    check("search_logs literal text",
          "  Local:   http://localhost:" in "\n".join(found) and
          all("Local:" in t for t in found), text[:300])

    # A long wait does not hold back other requests; a cancelled one never answers.
    next_id[0] += 1
    wid = next_id[0]
    send({"jsonrpc": "2.0", "id": wid, "method": "tools/call", "params": {
        "name": "wait_for_log", "arguments": {"name": "ticker", "pattern": "never-printed",
                                              "timeout_s": 50}}})
    t0 = time.monotonic()
    check("ping while wait_for_log waits", "result" in request("ping"))
    res, _ = call("list_processes")
    check("list_processes while wait_for_log waits",
          len(res["structuredContent"]["processes"]) == 3 and time.monotonic() - t0 < 10)
    send({"jsonrpc": "2.0", "method": "notifications/cancelled",
          "params": {"requestId": wid, "reason": "test"}})
    call("list_processes")  # after the cancel on the same connection: its reply came first
    check("cancelled wait_for_log: no reply", wid not in pending and
          all(m.get("id") != wid for m in seen if isinstance(m, dict)))

    res, text = call("start_process", {"name": "typecheck"})
    check("start_process typecheck: returns when it fails",
          res["structuredContent"]["state"] == "failed" and "TS2322" in text, text[:400])
    res, text = call("get_errors", {"name": "typecheck"})
    errs = res["structuredContent"]["errors"]
    check("get_errors: the TypeScript error and its location",
          any("TS2322" in e["title"] and e.get("location") == "src/a.ts:3:5" for e in errs), text)

    call("wait_for_log", {"name": "ticker", "pattern": "^tick 30$", "from": "start"})
    res, text = call("read_logs", {"name": "ticker", "tail": 500, "max_chars": 1000})
    sc = res["structuredContent"]
    check("max_chars: the text fits", len(text) <= 1000, len(text))
    check("max_chars: the oldest lines dropped, and it says so", "capped" in sc and
          sc["capped"]["dropped"] > 0 and sc["lines"][-1]["n"] >= ns[-1], text[-300:])

    res, text = call("stop_process", {"name": "ticker"})
    check("stop_process: returns once it has ended",
          res["structuredContent"]["state"] in ("stopped", "killed") and
          res["structuredContent"]["process"]["pid"] is None, text[:300])
    res, text = call("stop_process", {"name": "nope"})
    check("stop_process unknown: isError naming the processes",
          res["isError"] and "ticker" in text and "list_processes" in text, text)
    res, text = call("restart_process", {"name": "ticker"})
    check("restart_process: running again", res["structuredContent"]["state"] == "running", text)

    r = request("resources/list")
    check("unknown method: -32601", r.get("error", {}).get("code") == -32601, r)
    send_raw('{"jsonrpc":"2.0","id":5,"method":')
    r = next_msg()
    check("malformed JSON: -32700", r.get("id") is None and r["error"]["code"] == -32700, r)
    send_raw('[{"jsonrpc":"2.0","id":6,"method":"ping"}]')
    r = next_msg()
    check("batch refused for 2025-06-18", r.get("error", {}).get("code") == -32600, r)
    send_raw('{"jsonrpc":"2.0","id":7,"method":"ping","params":{"pad":"' + "x" * (5 << 20) + '"}}')
    r = next_msg()
    check("a line over 4 MiB: refused", r.get("error", {}).get("code") == -32600 and
          "4 MiB" in r["error"]["message"], r)
    check("a line over 4 MiB: the session goes on", "result" in request("ping"))


def legacy():
    init = initialize("2025-03-26")
    check("initialize: 2025-03-26 agreed", init["protocolVersion"] == "2025-03-26")
    send_raw(json.dumps([{"jsonrpc": "2.0", "id": 1, "method": "ping"},
                         {"jsonrpc": "2.0", "method": "notifications/initialized"},
                         {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}]))
    r = next_msg()
    check("batch: one array with both replies", isinstance(r, list) and
          sorted(x["id"] for x in r) == [1, 2], r)
    tools = [x for x in r if x["id"] == 2][0]["result"]["tools"] if isinstance(r, list) else []
    check("--read-only: only the reading tools",
          sorted(t["name"] for t in tools) == ["get_errors", "list_processes", "read_logs",
                                               "search_logs", "wait_for_log"], tools)
    check("2025-03-26: no outputSchema", all("outputSchema" not in t for t in tools))
    res, text = call("list_processes")
    check("2025-03-26: text only", "structuredContent" not in res and
          len(json.loads(text)["processes"]) == 3, res)
    res, text = call("start_process", {"name": "web"})
    check("--read-only: start_process refused, saying why", res["isError"] and
          "--read-only" in text, text)


def attach():
    init = initialize("2099-01-01")
    check("unknown version: the latest offered", init["protocolVersion"] == "2025-11-25", init)
    res, text = call("list_processes")
    procs = {p["name"]: p for p in res["structuredContent"]["processes"]}
    check("attached: the running brum's ticker is running",
          procs.get("ticker", {}).get("state") == "running", text[:300])
    res, text = call("wait_for_log", {"name": "ticker", "pattern": "^tick [0-9]+$",
                                      "from": "start"})
    check("attached: wait_for_log sees its lines", res["structuredContent"].get("matched"), text)


def poll_call(name, arguments, done, secs=20):
    """Calls until done(result, text) or the deadline (the other brum changes meanwhile)."""
    deadline = time.monotonic() + secs
    while True:
        res, text = call(name, arguments)
        if done(res, text) or time.monotonic() > deadline:
            return res, text
        time.sleep(0.05)


def wait_exited(pid, secs=20):
    """Polls until PID has exited (gone, or a zombie its parent has not reaped yet)."""
    deadline = time.monotonic() + secs
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False


def reconnect():
    initialize("2025-11-25")
    res, _ = call("list_processes")
    check("reconnect: attached", not res["isError"])
    os.kill(int(sys.argv[4]), signal.SIGTERM)
    res, text = poll_call("list_processes", {}, lambda r, t: r["isError"])
    check("reconnect: the brum is gone: isError saying what to do",
          res["isError"] and "start brum" in text, text)
    # Its socket is gone before the process is: until it has exited it may still hold the
    # project's lock, and a brum started then refuses to run ("already running", exit 2).
    check("reconnect: the stopped brum has exited", wait_exited(int(sys.argv[4])))
    other = subprocess.Popen([BRUM, "--headless", "--shell", "-d", PROJ, "ticker"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        res, text = poll_call("list_processes", {}, lambda r, t: not r["isError"] and any(
            p["name"] == "ticker" and p["state"] == "running"
            for p in r["structuredContent"]["processes"]))
        check("reconnect: the next brum is reached", not res["isError"], text[:300])
    finally:
        other.send_signal(signal.SIGTERM)
        other.wait(timeout=30)


try:
    {"full": full, "legacy": legacy, "attach": attach, "reconnect": reconnect}[MODE]()
except (EOFError, queue.Empty, KeyError, json.JSONDecodeError) as e:
    check(f"{MODE}: session ran to its end", False, repr(e))
proc.stdin.close()  # the session ends: brum mcp exits
try:
    rc = proc.wait(timeout=30)
    check(f"{MODE}: brum mcp exits 0 when stdin closes", rc == 0, rc)
except subprocess.TimeoutExpired:
    proc.kill()
    check(f"{MODE}: brum mcp exits when stdin closes", False, "still running after 30 s")
sys.exit(1 if failed else 0)
