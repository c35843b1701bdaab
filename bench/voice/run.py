#!/usr/bin/env python
"""bench/voice: the children's mailbox through the real HTTP stack.

A fresh data directory (migrated SQLite, fresh field-encryption keys), then ``yimi serve`` (waitress,
8 threads, the production WSGI application; no background worker) on a free local port with the
settings of ``voice_bench_settings.py`` — Yimi's settings with the mailbox rate limits turned off
(``YIMI_VOICE_RATE_LIMITS``), since 50 clients on one address would otherwise get 429s. Then:

1. submissions: N concurrent clients (threads, one keep-alive ``http.client`` connection each)
   POST multipart letters to ``/api/v1/voice/suggestions`` for a fixed time; every 5th carries a
   small PNG drawing (re-encoded by the server); every other one is from a child under 14 with
   a guardian's consent and contact (so encrypted fields are written). One letter is sent alone
   before the clients start (the first letter a process takes loads the text rules' jieba
   dictionary); its latency is reported apart as the cold start;
2. look-ups: the same clients GET ``/api/v1/voice/receipts/{code}`` for the codes received.

Reports requests/s, p50/p99 latency and errors by kind to stdout and bench/results/voice.json.

    python bench/voice/run.py                   # 50 clients, 30 s + 20 s
    python bench/voice/run.py --quick           # 10 clients, 5 s + 5 s
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import io
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
RESULTS = ROOT / "bench" / "results" / "voice.json"

TEXTS = [
    "希望公园里有饮水机，夏天太热了。",
    "学校门口的斑马线能画得更清楚吗？车开得太快了。",
    "图书馆周末能开到晚上吗？",
    "小区的滑梯坏了，请修一修。",
    "地铁站的扶手太高了，小朋友够不着。",
]
TOPICS = ["play", "school_way", "culture", "play", "traffic"]


def _png() -> bytes:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (160, 120), (255, 250, 235))
    ImageDraw.Draw(img).ellipse((40, 20, 120, 100), fill=(230, 120, 30))
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def _multipart(fields: dict[str, str], image: bytes | None) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for k, v in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        )
    if image is not None:
        parts.append(
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="image"; '
                f'filename="drawing.png"\r\nContent-Type: image/png\r\n\r\n'
            ).encode()
            + image
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "YIMI_DATA_DIR": str(data_dir / "data"),
            "YIMI_KEY_DIR": str(data_dir / "keys"),
            "SECRET_KEY": "bench-voice-" + uuid.uuid4().hex,
            "DJANGO_SETTINGS_MODULE": "voice_bench_settings",
            "PYTHONPATH": os.pathsep.join([str(HERE), str(ROOT), env.get("PYTHONPATH", "")]),
            "YIMI_IGNORE_DOTENV": "1",
            "LOG_LEVEL": "ERROR",
        }
    )
    return env


def _wait_for(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited ({proc.returncode})")
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/voice/")
            if c.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("the server did not answer in time")


class Phase:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.errors: Counter[str] = Counter()
        self.codes: list[str] = []


def _client(port, phase: Phase, until: float, job, seed: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    i = seed
    lat, errs, codes = [], Counter(), []
    while time.monotonic() < until:
        method, path, body, headers = job(i)
        i += 1
        t0 = time.perf_counter()
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            took = time.perf_counter() - t0
        except (OSError, http.client.HTTPException) as exc:
            errs[type(exc).__name__] += 1
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            continue
        if resp.status in (200, 201):
            lat.append(took)
            if method == "POST":
                codes.append(json.loads(data)["receipt_code"])
        else:
            errs[f"HTTP {resp.status}"] += 1
    conn.close()
    with phase.lock:
        phase.latencies += lat
        phase.errors.update(errs)
        phase.codes += codes


def _run_phase(port: int, clients: int, seconds: float, job) -> tuple[Phase, float]:
    phase = Phase()
    start = time.monotonic()
    until = start + seconds
    threads = [
        threading.Thread(target=_client, args=(port, phase, until, job, k * 100_000))
        for k in range(clients)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return phase, time.monotonic() - start


def _summary(phase: Phase, wall: float) -> dict:
    lat = sorted(phase.latencies)
    n = len(lat)

    def pct(p: float) -> float:
        return round(1000 * lat[min(n - 1, int(p * n))], 1) if n else float("nan")

    return {
        "ok": n,
        "seconds": round(wall, 2),
        "per_second": round(n / wall, 1),
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "max_ms": round(1000 * lat[-1], 1) if n else None,
        "mean_ms": round(1000 * statistics.fmean(lat), 1) if n else None,
        "errors": dict(phase.errors),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--submit-seconds", type=float, default=30)
    ap.add_argument("--lookup-seconds", type=float, default=20)
    ap.add_argument("--threads", type=int, default=8, help="waitress threads (yimi serve default)")
    ap.add_argument("--quick", action="store_true", help="10 clients, 5 s + 5 s")
    ap.add_argument("--keep", action="store_true", help="keep the temporary data directory")
    args = ap.parse_args()
    if args.quick:
        args.clients, args.submit_seconds, args.lookup_seconds = 10, 5, 5

    tmp = Path(tempfile.mkdtemp(prefix="yimi-bench-voice-"))
    env = _env(tmp)
    py = sys.executable
    load_before = os.getloadavg()
    print(f"data directory {tmp}; migrating …", flush=True)
    subprocess.run([py, "-m", "yimi", "migrate", "-v", "0"], env=env, check=True, cwd=ROOT)
    port = _free_port()
    server = subprocess.Popen(
        [
            py,
            "-m",
            "yimi",
            "serve",
            "--no-worker",
            "--port",
            str(port),
            "--threads",
            str(args.threads),
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    try:
        _wait_for(port, server)
        png = _png()

        def submit(i: int):
            under14 = i % 2 == 0
            fields = {
                "text": TEXTS[i % len(TEXTS)],
                "age_group": "9-12" if under14 else "15-18",
                "topic": TOPICS[i % len(TOPICS)],
            }
            if under14:
                fields.update(guardian_consent="true", guardian_contact="13800000000")
            body, ctype = _multipart(fields, png if i % 5 == 0 else None)
            return "POST", "/api/v1/voice/suggestions", body, {"Content-Type": ctype}

        # One letter first, alone: the text rules load jieba's dictionary on the first letter
        # a process takes (seconds); the timed phases measure a warm server.
        method, path, body, headers = submit(1)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        t0 = time.perf_counter()
        conn.request(method, path, body=body, headers=headers)
        first = conn.getresponse()
        first.read()
        first_ms = round(1000 * (time.perf_counter() - t0), 1)
        conn.close()
        if first.status != 201:
            raise SystemExit(f"the first letter was refused: HTTP {first.status}")

        print(f"submissions: {args.clients} clients, {args.submit_seconds:g} s …", flush=True)
        sub, sub_wall = _run_phase(port, args.clients, args.submit_seconds, submit)
        codes = sub.codes or ["XXXX-XXXX-XXXX"]

        def lookup(i: int):
            return "GET", f"/api/v1/voice/receipts/{codes[i % len(codes)]}", None, {}

        print(f"look-ups: {args.clients} clients, {args.lookup_seconds:g} s …", flush=True)
        look, look_wall = _run_phase(port, args.clients, args.lookup_seconds, lookup)
    finally:
        server.terminate()
        server.wait(timeout=30)

    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    result = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit,
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "clients": args.clients,
        "waitress_threads": args.threads,
        "rate_limits": "off (YIMI_VOICE_RATE_LIMITS in bench/voice/voice_bench_settings.py)",
        "first_letter_ms": first_ms,
        "submissions": _summary(sub, sub_wall),
        "with_picture": "every 5th submission (160×120 PNG)",
        "lookups": _summary(look, look_wall),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    for name in ("submissions", "lookups"):
        r = result[name]
        print(
            f"{name:12s} {r['ok']:6d} ok in {r['seconds']:.1f} s = {r['per_second']:7.1f}/s  "
            f"p50 {r['p50_ms']} ms  p99 {r['p99_ms']} ms  errors {r['errors'] or 0}"
        )
    print(f"first letter after start (cold): {first_ms} ms")
    print(f"load {result['load_before']} → {result['load_after']}; written {RESULTS}")
    if not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
