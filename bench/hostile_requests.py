"""The hostile-input matrix of issue 15, sent to a running server: one line per hostile request, what came back.

    python bench/hostile_requests.py http://127.0.0.1:8000 --token STAFF_TOKEN [--sku MH01]

Run it against gunicorn with production settings (DEBUG off) and a catalog imported (the demo's luma-dev: the
default sku MH01 is one of its products). Every request is refused or handled; none may be a 5xx or an HTML page.
Rows that need a killed worker, a re-import or Ctrl-C (7, 8, 14) are tests, not requests: tests/test_embeddings.py,
tests/test_import.py and tests/test_infra.py. Staff rows are skipped without ``--token``.
"""

from __future__ import annotations

import argparse
import base64
import io
import socket
import sys
import uuid
from urllib.parse import urlsplit

import requests
from PIL import Image


def raw_get(base: str, target: str) -> tuple[int, str, str]:
    """A GET sent over a plain socket (``requests`` refuses nothing, but this keeps a 1 MB line byte-exact)."""
    parts = urlsplit(base)
    with socket.create_connection((parts.hostname, parts.port or 80), timeout=30) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), headers.get("Content-Type", ""), body.decode("utf-8", "replace")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("base", help="the server, e.g. http://127.0.0.1:8000")
    parser.add_argument("--token", default="", help="a staff token (Authorization: Token ...) for the write rows")
    parser.add_argument("--sku", default="MH01", help="a product of the catalog")
    args = parser.parse_args()
    base, sku = args.base.rstrip("/"), args.sku
    staff = {"Authorization": f"Token {args.token}"} if args.token else None
    rows: list[tuple[str, str, int, str, str]] = []

    def record(row: str, what: str, response: requests.Response | tuple[int, str, str]) -> None:
        if isinstance(response, tuple):
            status, content_type, body = response
        else:
            status, content_type, body = response.status_code, response.headers.get("Content-Type", ""), response.text
        rows.append((row, what, status, content_type.split(";")[0], " ".join(body.split())[:90]))

    api = f"{base}/api/v1"
    record("1", "GET /search?color=a%00", requests.get(f"{api}/search?color=a%00"))
    record("1", "GET /search?q=hoodie&color=Black%00", requests.get(f"{api}/search?q=hoodie&color=Black%00"))
    record(
        "1",
        "POST /search/image JSON color NUL",
        requests.post(f"{api}/search/image", json={"image": "x", "color": "a\x00"}),
    )
    record("2", f"GET /products/{sku[:2]}%00{sku[2:]}", requests.get(f"{api}/products/{sku[:2]}%00{sku[2:]}"))
    record("2", f"GET /products/{sku[:2]}%00{sku[2:]}/similar",
           requests.get(f"{api}/products/{sku[:2]}%00{sku[2:]}/similar"))  # fmt: skip
    for body in ("[]", '"abc"', "5", "null", "[null,null]"):
        record("3", f"POST /search/image body {body}", requests.post(
            f"{api}/search/image", data=body, headers={"Content-Type": "application/json"}))  # fmt: skip
    if staff:
        record("4", 'staff PUT /products/ZZ {"name":"a\\u0000b"}',
               requests.put(f"{api}/products/ZZ", json={"name": "a\x00b", "price": "1"}, headers=staff))  # fmt: skip
    if staff:
        response = requests.put(f"{api}/products/ZZ-SSRF", json={"name": "x", "images": ["http://127.0.0.1:9/x"]},
                                headers=staff)  # fmt: skip
        problems = response.json().get("problems", []) if response.ok else []
        record("6", "staff PUT images http://127.0.0.1:9/x",
               (response.status_code, response.headers.get("Content-Type", ""), "; ".join(problems)))  # fmt: skip
    record("9", "POST /events made-up search_id and sku", requests.post(
        f"{api}/events", json={"search_id": str(uuid.uuid4()), "type": "click", "sku": sku}))  # fmt: skip
    record("11", "GET /search?q=<10 KB>", raw_get(base, "/api/v1/search?q=" + "a" * 10_000))
    record("11", "GET /search?q=<1 MB>", raw_get(base, "/api/v1/search?q=" + "a" * 1_000_000))
    buffer = io.BytesIO()
    Image.new("1", (30000, 30000)).save(buffer, "PNG")  # 900 MP, about 100 KB compressed
    record("12", "POST /search/image 30000x30000 PNG", requests.post(
        f"{api}/search/image", json={"image": base64.b64encode(buffer.getvalue()).decode()}))  # fmt: skip
    if staff:
        record("13", "staff PUT a 5 MB description", requests.put(
            f"{api}/products/ZZ-BIG", json={"name": "x", "description": "x" * 5_000_000}, headers=staff))  # fmt: skip
    record("-", "GET /api/v1/no-such-endpoint", requests.get(f"{api}/no-such-endpoint"))
    # last: it spends this client's rate limit
    made_up = [{"X-Forwarded-For": f"203.0.113.{n % 250}"} for n in range(800)]
    codes = [requests.get(f"{api}/search", params={"q": "tent"}, headers=headers).status_code for headers in made_up]
    record("5", "800 searches, each a made-up X-Forwarded-For",
           (429 if 429 in codes else 200, "", f"{codes.count(200)} x 200, {codes.count(429)} x 429"))  # fmt: skip

    print("| # | request | status | content type | body |")
    print("| --- | --- | --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(str(cell).replace("|", "\\|") for cell in row) + " |")
    bad = [row for row in rows if row[2] >= 500 or (row[3] and row[3] != "application/json")]
    print(f"\n{len(rows)} requests, {len(bad)} server errors or non-JSON answers")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
