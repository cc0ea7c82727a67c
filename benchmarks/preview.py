"""`mkt preview` under requests any web page can send to 127.0.0.1: the cost of a request for an unlisted path (it
used to re-read every manifest), of a listed file, and how long a connection that sends nothing is held.

    python benchmarks/preview.py OUT [--requests 200]      # OUT: a bundle folder or a batch's OUT; prints JSON"""
from __future__ import annotations

import argparse
import json
import resource
import socket
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote


def _get(port: int, target: str) -> int:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(f"GET {target} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode("latin-1"))
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return int(data.split(b" ", 2)[1])


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--requests", type=int, default=200)
    args = ap.parse_args()
    from mktcli.preview.server import make_server

    server = make_server(args.out, 0)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    port = server.server_address[1]
    fig: dict = {"requests": args.requests}
    _get(port, "/")
    t, c = time.perf_counter(), _cpu()
    codes = {_get(port, f"/files/unlisted-{i}.png") for i in range(args.requests)}
    fig["unlisted_ms_each"] = round(1000 * (time.perf_counter() - t) / args.requests, 2)
    fig["unlisted_cpu_s_total"] = round(_cpu() - c, 2)
    fig["unlisted_status"] = sorted(codes)
    listed = sorted(getattr(server, "_listed", frozenset()))[:50]
    if listed:
        t = time.perf_counter()
        for rel in listed:
            _get(port, "/files/" + quote(rel, safe="/"))
        fig["listed_ms_each"] = round(1000 * (time.perf_counter() - t) / len(listed), 2)
    t = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(b"GET / HT")   # half a request line, then nothing
        try:
            s.recv(1024)
            fig["idle_connection_closed_after_s"] = round(time.perf_counter() - t, 1)
        except socket.timeout:
            fig["idle_connection_closed_after_s"] = "held > 30 s"
    server.shutdown()
    server.server_close()
    json.dump(fig, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
