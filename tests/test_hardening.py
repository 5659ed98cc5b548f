"""Hostile input: NUL bytes and invalid text anywhere in a request, bodies that are not JSON objects, made-up
client addresses against the throttle."""

import json

import pytest
from django.test import override_settings
from rest_framework.authtoken.models import Token

from catalog.models import Product

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/search?q=hoodie&color=Black%00", "color"),
        ("/api/v1/search?q=a%00", "q"),
        ("/api/v1/products/MH%0001", "path"),
        ("/api/v1/products/MH%0001/similar", "path"),
    ],
)
def test_a_nul_byte_anywhere_in_a_request_is_a_400_with_the_field(api, path, field):
    response = api.get(path)
    assert response.status_code == 400 and field in response.json() and response.json()["status"] == 400


@pytest.mark.parametrize("body", ["[]", '"abc"', "5", "null", "[null, null]"])
def test_a_json_body_that_is_not_an_object_is_a_400(api, body):
    response = api.post("/api/v1/search/image", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["non_field_errors"] == ["the request body must be a JSON object"]


def test_a_nul_byte_in_a_json_field_is_refused_and_nothing_is_written(api, django_user_model):
    staff = django_user_model.objects.create_user("ops", password="x", is_staff=True)
    token = Token.objects.create(user=staff)
    body = json.dumps({"name": "a\u0000b", "price": "1", "attributes": {"color": ["ok", "b\ud800"]}})
    response = api.put("/api/v1/products/ZZ", body, content_type="application/json",
                       HTTP_AUTHORIZATION=f"Token {token.key}")  # fmt: skip
    assert response.status_code == 400 and "name" in response.json()
    assert not Product.objects.filter(sku="ZZ").exists()
    body = json.dumps({"name": "fine", "price": "1", "attributes": {"color": ["ok", "b\ud800"]}})
    response = api.put("/api/v1/products/ZZ", body, content_type="application/json",
                       HTTP_AUTHORIZATION=f"Token {token.key}")  # fmt: skip
    assert response.status_code == 400 and "attributes.color[1]" in response.json()


def test_made_up_forwarded_addresses_do_not_escape_the_rate_limit(api, settings):
    settings.SEARCH_ANON_RATE = "3/min"
    codes = [
        api.get("/api/v1/search", {"q": "tent"}, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code for n in range(4)
    ]
    assert codes == [200, 200, 200, 429]  # X-Forwarded-For is ignored without trusted proxies


def test_behind_a_trusted_proxy_each_client_has_its_own_limit(api, settings):
    settings.SEARCH_ANON_RATE = "3/min"
    with override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}):
        codes = [
            api.get("/api/v1/search", {"q": "tent"}, HTTP_X_FORWARDED_FOR=f"198.51.100.{n % 2}").status_code
            for n in range(7)
        ]
    # two clients seen by the proxy, three requests each allowed; the seventh is the first client's fourth
    assert codes == [200, 200, 200, 200, 200, 200, 429]


def test_an_oversized_description_is_refused_by_the_api(api, django_user_model):
    staff = django_user_model.objects.create_user("ops", password="x", is_staff=True)
    token = Token.objects.create(user=staff)
    body = json.dumps({"name": "Big", "price": "1", "description": "x" * 5_000_000})
    response = api.put("/api/v1/products/BIG", body, content_type="application/json",
                       HTTP_AUTHORIZATION=f"Token {token.key}")  # fmt: skip
    assert response.status_code in (400, 413) and not Product.objects.filter(sku="BIG").exists()
    body = json.dumps({"name": "Big", "price": "1", "description": "x" * 100_001})
    response = api.put("/api/v1/products/BIG", body, content_type="application/json",
                       HTTP_AUTHORIZATION=f"Token {token.key}")  # fmt: skip
    assert response.status_code == 400 and "at most 100000 allowed" in json.dumps(response.json())


def test_the_schema_says_what_the_api_does(api):
    schema = api.get("/api/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    page = paths["/api/v1/products"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert page == {"$ref": "#/components/schemas/ProductPageOutput"}  # a page object, as the API answers
    assert set(schema["components"]["schemas"]["ProductPageOutput"]["properties"]) == {"count", "next", "previous",
                                                                                     "results"}  # fmt: skip
    names = [p["name"] for p in paths["/api/v1/search"]["get"]["parameters"]]
    assert "<attribute>" not in names and "attributes" in names
    [k] = [p for p in paths["/api/v1/products/{sku}/similar"]["get"]["parameters"] if p["name"] == "k"]
    assert (k["schema"]["minimum"], k["schema"]["maximum"]) == (1, 50)
    assert {"400", "409", "413", "415"} <= set(paths["/api/v1/search/image"]["post"]["responses"])
    assert {"400", "401", "403", "413"} <= set(paths["/api/v1/products/{sku}"]["put"]["responses"])


# --- oversized requests: the API's JSON error shape from gunicorn and from Django ------------------------------


def _raw_http(port: int, request: bytes) -> tuple[int, str, dict]:
    """Send ``request`` as it is and read the answer: status, content type and JSON body. The server may answer
    and close before it has read all of a large request, so the request is sent from a thread meanwhile."""
    import contextlib
    import http.client
    import io
    import socket
    import threading

    class Recorded:
        def makefile(self, *args, **kwargs):
            return io.BytesIO(data)

    def send():
        with contextlib.suppress(OSError):  # the server answered and closed before reading the rest
            sock.sendall(request)

    data = b""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sender = threading.Thread(target=send)
        sender.start()
        try:
            while chunk := sock.recv(65536):
                data += chunk
        except ConnectionResetError:  # the unread rest of the request: the answer has arrived by then
            pass
        sender.join()
    response = http.client.HTTPResponse(Recorded())
    response.begin()
    return response.status, response.getheader("Content-Type"), json.loads(response.read())


@pytest.fixture
def gunicorn_server(test_database):
    """The web server as deployed (``shop_search/gunicorn.conf.py``, one worker) on the test database: its port."""
    import os
    import signal
    import subprocess
    import sys
    import time
    import urllib.error
    import urllib.request

    from scripts.services import free_port

    from .conftest import ROOT

    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "shop_search/gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
         "--workers", "1"],
        cwd=ROOT,
        start_new_session=True,
        env={**os.environ, "DATABASE_NAME": test_database, "DJANGO_ENV": "test"},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120  # the worker warms up before it accepts
        while True:
            assert process.poll() is None, f"gunicorn exited with {process.returncode}"
            assert time.monotonic() < deadline, "gunicorn did not answer /healthz within 120 s"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5):
                    break
            except urllib.error.HTTPError:  # a 503: it answers, which is all these tests need
                break
            except OSError:  # not listening yet
                time.sleep(0.2)
        yield port
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


@pytest.mark.slow
def test_gunicorn_answers_oversized_request_lines_and_headers_in_the_api_error_shape(gunicorn_server):
    # given the web server as deployed
    port = gunicorn_server
    for length in (10_000, 1_000_000):
        # when a query string of 10 KB or 1 MB arrives
        request = f"GET /api/v1/search?q={'a' * length} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode()
        status, content_type, body = _raw_http(port, request)
        # then gunicorn refuses it with 414 in the API's JSON shape, saying the limit
        assert (status, content_type) == (414, "application/json")
        assert body == {"detail": "request line too long: at most 4094 bytes (method, path and query string)",
                        "status": 414}  # fmt: skip

    # an oversized header: gunicorn's status, the same shape
    request = f"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Big: {'b' * 10_000}\r\n\r\n".encode()
    status, content_type, body = _raw_http(port, request)
    assert (status, content_type, body["status"]) == (431, "application/json", 431) and "at most" in body["detail"]

    # a malformed request line: 400, the same shape
    status, content_type, body = _raw_http(port, b"GARBAGE\r\n\r\n")
    assert (status, content_type, body["status"]) == (400, "application/json", 400) and body["detail"]

    # and a body over DATA_UPLOAD_MAX_MEMORY_SIZE is Django's to refuse: 413, the same shape
    payload = b'{"image": "' + b"a" * (16 * 1024 * 1024) + b'"}'
    request = (b"POST /api/v1/search/image HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
               b"Content-Length: %d\r\n\r\n%s") % (len(payload), payload)  # fmt: skip
    status, content_type, body = _raw_http(port, request)
    assert (status, content_type) == (413, "application/json")
    assert body == {"detail": "request body too large: at most 15728640 bytes (15 MB)", "status": 413}


OVER_LIMIT = 16 * 1024 * 1024  # DATA_UPLOAD_MAX_MEMORY_SIZE is 15 MB


@pytest.mark.parametrize(
    ("method", "path", "content_type", "head", "tail"),
    [
        ("post", "/api/v1/search/image", "application/json", b'{"image": "', b'"}'),
        ("post", "/api/v1/search/image", "multipart/form-data; boundary=XX",
         b'--XX\r\nContent-Disposition: form-data; name="q"\r\n\r\n', b"\r\n--XX--\r\n"),
        ("post", "/api/v1/events", "application/json", b'{"query_id": "', b'"}'),
        ("put", "/api/v1/products/BIG", "application/json", b'{"name": "', b'"}'),
        ("post", "/api/v1/search/image", "application/octet-stream", b"", b""),
    ],
)  # fmt: skip
def test_a_body_over_the_upload_limit_is_a_413_in_the_api_error_shape(api, method, path, content_type, head, tail):
    body = head + b"a" * OVER_LIMIT + tail
    response = getattr(api, method)(path, body, content_type=content_type)
    assert response.status_code == 413
    assert response.json() == {"detail": "request body too large: at most 15728640 bytes (15 MB)", "status": 413}


def test_too_many_query_parameters_is_a_400_in_the_api_error_shape(api):
    response = api.get("/api/v1/search?" + "&".join(["a"] * 1001))
    assert response.status_code == 400
    assert response.json() == {"detail": "too many query parameters or form fields: at most 1000", "status": 400}


def test_api_errors_django_answers_itself_are_json_too(api, django_user_model):
    missing = api.get("/api/v1/no-such-endpoint")
    assert missing.status_code == 404 and missing.json() == {"detail": "no such API endpoint", "status": 404}
    assert "text/html" in api.get("/no-such-page").headers["Content-Type"]  # pages outside the API stay HTML
    # a product record is JSON: a form body (parsed by nothing before, NUL bytes and field floods included) is a 415
    staff = django_user_model.objects.create_user("ops", password="x", is_staff=True)
    token = Token.objects.create(user=staff)
    form = "&".join(f"variants=x{n}" for n in range(1500))
    response = api.put("/api/v1/products/F1", form, content_type="application/x-www-form-urlencoded",
                       HTTP_AUTHORIZATION=f"Token {token.key}")  # fmt: skip
    assert response.status_code == 415 and response.json()["status"] == 415
    assert not Product.objects.filter(sku="F1").exists()


def test_a_mixed_case_json_content_type_is_checked_too_and_deep_nesting_is_a_400(api):
    body = json.dumps({"search_id": "a\u0000", "type": "click", "sku": "X"})
    response = api.post("/api/v1/events", body, content_type="Application/JSON")
    assert response.status_code == 400 and response.json()["search_id"] == [
        "contains a NUL character or invalid text"
    ]  # fmt: skip
    nested = api.post("/api/v1/events", "[" * 100_000, content_type="application/json")
    assert nested.status_code == 400 and "nested too deeply" in nested.json()["non_field_errors"][0]
    deep = json.dumps({"a": [[[[{"b": "c\u0000"}]]]]})
    assert api.post("/api/v1/events", deep, content_type="application/json").json() == {
        "a[0][0][0][0].b": ["contains a NUL character or invalid text"], "status": 400
    }  # fmt: skip
