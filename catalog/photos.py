"""Product photos: read from the catalog folder or an http(s) URL, check, normalise and store by content hash.

Every check happens before a photo reaches storage: size in bytes, image type, pixel count (decompression
bombs), a full decode (truncated files). EXIF orientation is applied so that stored pixels are upright; such
photos are re-encoded, all others are stored byte for byte. Files are named by the SHA-256 of what is stored,
so the same photo referenced by many products is stored once.
"""

from __future__ import annotations

import hashlib
import io
import ipaddress
import socket
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlparse

import certifi
import urllib3
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image, ImageOps, UnidentifiedImageError

ALLOWED_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif"}
EXIF_ORIENTATION = 0x0112


class PhotoError(ValueError):
    """A photo that cannot be used; the message says why."""


@dataclass(frozen=True)
class StoredPhoto:
    name: str  # path in the default storage
    content_hash: str
    width: int
    height: int


def read_source(source: str, *, base_dir: Path) -> bytes:
    """The bytes of a photo given as a path relative to ``base_dir`` or an http(s) URL."""
    if urlparse(source).scheme in ("http", "https"):
        return _fetch(source)
    if "://" in source:
        raise PhotoError(f"unsupported photo location {source!r}: use a relative path or an http(s) URL")
    base = base_dir.resolve()
    path = (base / source).resolve()
    if not path.is_relative_to(base):
        raise PhotoError(f"photo path {source!r} points outside the catalog folder")
    try:
        size = path.stat().st_size
        if size > settings.PHOTO_MAX_BYTES:
            raise PhotoError(f"photo is {size} bytes, more than the {settings.PHOTO_MAX_BYTES} allowed")
        return path.read_bytes()
    except FileNotFoundError:
        raise PhotoError(f"photo not found: {source}") from None
    except IsADirectoryError:
        raise PhotoError(f"photo path is a folder: {source}") from None
    except OSError as exc:
        raise PhotoError(f"cannot read photo {source}: {exc.strerror}") from None


# Redirects a photo URL may take, each checked like the first address.
MAX_REDIRECTS = 5
# A whole fetch (redirects and body) may take this many times PHOTO_FETCH_TIMEOUT.
PHOTO_FETCH_DEADLINE_FACTOR = 3


def _fetch(url: str) -> bytes:
    """A photo URL's bytes. The host is resolved first and the connection goes to the address that was checked
    (no second lookup a DNS change could redirect): loopback, private, link-local (cloud metadata), multicast and
    other non-public addresses are refused unless ``PHOTO_FETCH_ALLOWED_NETWORKS`` lists them; every redirect is
    checked the same way."""
    limit = settings.PHOTO_MAX_BYTES
    # The timeout bounds each connect and read; the deadline bounds the whole fetch (a server that trickles a byte
    # every few seconds would otherwise hold an import, or a web worker answering a PUT, for as long as it likes).
    allowed_seconds = settings.PHOTO_FETCH_TIMEOUT * PHOTO_FETCH_DEADLINE_FACTOR
    deadline = time.monotonic() + allowed_seconds
    try:
        for _hop in range(MAX_REDIRECTS + 1):
            response = _get_checked(url)
            try:
                if response.status in (301, 302, 303, 307, 308) and response.headers.get("Location"):
                    url = urljoin(url, response.headers["Location"])
                    continue
                if response.status != 200:
                    raise PhotoError(f"photo URL answered HTTP {response.status}: {url}")
                declared = response.headers.get("Content-Length")
                if declared and declared.isdigit() and int(declared) > limit:
                    raise PhotoError(f"photo at {url} is {declared} bytes, more than the {limit} allowed")
                body = bytearray()
                for chunk in response.stream(64 * 1024):
                    body += chunk
                    if len(body) > limit:
                        raise PhotoError(f"photo at {url} is more than the {limit} bytes allowed")
                    if time.monotonic() > deadline:
                        raise PhotoError(f"photo URL took longer than {allowed_seconds:g} s in all: {url}")
                return bytes(body)
            finally:
                response.release_conn()
        raise PhotoError(f"photo URL redirected more than {MAX_REDIRECTS} times: {url}")
    except urllib3.exceptions.NewConnectionError as exc:  # a subclass of the timeout error, for history's sake
        raise PhotoError(f"cannot fetch photo {url}: {exc.__class__.__name__}") from None
    except urllib3.exceptions.TimeoutError:
        raise PhotoError(f"photo URL timed out after {settings.PHOTO_FETCH_TIMEOUT:g} s: {url}") from None
    except urllib3.exceptions.HTTPError as exc:
        raise PhotoError(f"cannot fetch photo {url}: {exc.__class__.__name__}") from None


def _get_checked(url: str) -> urllib3.BaseHTTPResponse:
    """GET ``url`` from a checked address of its host (no redirect followed)."""
    parts = urlparse(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PhotoError(f"unsupported photo location {url!r}: use an http(s) URL")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = _checked_address(parts.hostname, port)
    timeout = urllib3.Timeout(connect=settings.PHOTO_FETCH_TIMEOUT, read=settings.PHOTO_FETCH_TIMEOUT)
    if parts.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            address, port, timeout=timeout, retries=False, server_hostname=parts.hostname,
            assert_hostname=parts.hostname, cert_reqs="CERT_REQUIRED", ca_certs=certifi.where(),
        )  # fmt: skip
    else:
        pool = urllib3.HTTPConnectionPool(address, port, timeout=timeout, retries=False)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host = parts.hostname if parts.port is None else f"{parts.hostname}:{parts.port}"
    return pool.urlopen("GET", target, headers={"Host": host, "User-Agent": "shop-search photo import"},
                        redirect=False, preload_content=False)  # fmt: skip


def _checked_address(host: str, port: int) -> str:
    """The first address of ``host`` that may be fetched from; PhotoError when it resolves to none."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise PhotoError(f"cannot resolve the photo host {host!r}") from None
    allowed = _allowed_networks()
    for *_rest, sockaddr in infos:
        address = ipaddress.ip_address(sockaddr[0].split("%")[0])
        if any(address in network for network in allowed):
            return str(address)
        if address.is_global and not address.is_multicast:
            return str(address)
    raise PhotoError(
        f"photo host {host!r} resolves to a private, loopback, link-local or otherwise non-public address "
        f"({infos[0][4][0]}): refused (PHOTO_FETCH_ALLOWED_NETWORKS lists networks photos may come from)"
    )


def _allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(item, strict=False) for item in settings.PHOTO_FETCH_ALLOWED_NETWORKS]


def open_checked(data: bytes) -> Image.Image:
    """Open and fully decode ``data``, refusing non-images, unsupported types, bombs and truncated files."""
    if not data:
        raise PhotoError("photo file is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format not in ALLOWED_FORMATS:
                raise PhotoError(f"unsupported image type {image.format}; use JPEG, PNG, WebP or GIF")
            width, height = image.size
            if width * height > settings.PHOTO_MAX_PIXELS:
                raise PhotoError(
                    f"photo is {width}x{height} ({width * height / 1e6:.0f} MP), more than the "
                    f"{settings.PHOTO_MAX_PIXELS / 1e6:.0f} MP allowed (decompression bomb guard)"
                )
            image.load()
    except PhotoError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow refuses on its own above its limit (89 MP), which is above ours: say ours.
        raise PhotoError(
            f"photo refused as a decompression bomb (more than the {settings.PHOTO_MAX_PIXELS / 1e6:.0f} MP allowed)"
        ) from None
    except UnidentifiedImageError:
        raise PhotoError("not an image (or an image type Pillow cannot read)") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise PhotoError(f"corrupt or truncated image: {exc}") from None
    return image


def store(data: bytes) -> StoredPhoto:
    """Check ``data`` and store it under its content hash (no-op when already stored)."""
    image = open_checked(data)
    extension = ALLOWED_FORMATS[image.format]
    orientation = image.getexif().get(EXIF_ORIENTATION, 1)
    if orientation != 1:
        upright = ImageOps.exif_transpose(image)
        buffer = io.BytesIO()
        if image.format == "JPEG":
            upright.convert("RGB").save(buffer, "JPEG", quality=92)
        else:
            upright.save(buffer, image.format)
        data, image = buffer.getvalue(), upright
    digest = hashlib.sha256(data).hexdigest()
    name = f"photos/{digest[:2]}/{digest}.{extension}"
    if not default_storage.exists(name):
        saved = default_storage.save(name, ContentFile(data))
        if saved != name:  # another process stored the same photo meanwhile; keep one copy
            default_storage.delete(saved)
    return StoredPhoto(name=name, content_hash=digest, width=image.width, height=image.height)
