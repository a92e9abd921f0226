"""Where `h:href` content comes from: a composite fetcher that routes a URI by its scheme.

`file:` reads only below the configured data roots: a path that leaves them, by `..` or by a
symlink, is refused before anything is opened. `s3://bucket/key` reads through boto3.
"""

from __future__ import annotations

import stat
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..documents import DocumentMissing, DocumentStore
from .errors import HydrationError

Fetch = Callable[[str], bytes]


@dataclass(frozen=True)
class FileFetcher:
    """`file:relative/path` (or an absolute path) resolved inside one of `roots`."""

    roots: Sequence[Path]
    max_bytes: int

    @classmethod
    def confined_to(cls, roots: Sequence[str], max_bytes: int) -> FileFetcher:
        return cls(tuple(Path(root).resolve() for root in roots), max_bytes)

    def __call__(self, uri: str) -> bytes:
        path = unquote(urlsplit(uri).path)
        if not path:
            raise HydrationError(f"{uri!r} names no file")
        if ".." in Path(path).parts:
            raise HydrationError(f"{uri!r}: '..' is not allowed in a file reference")
        inside_a_root = False
        for root in self.roots:
            # resolve() follows symlinks: a link pointing out of the root resolves outside it.
            resolved = (root / path).resolve()
            if not resolved.is_relative_to(root):
                continue
            inside_a_root = True
            if resolved.exists():
                return self._read(uri, resolved)
        if not inside_a_root:
            raise HydrationError(f"{uri!r} leads outside the data roots")
        raise HydrationError(f"{uri!r}: no such file in the data roots")

    def _read(self, uri: str, path: Path) -> bytes:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise HydrationError(f"{uri!r} is not a regular file")
        if info.st_size > self.max_bytes:
            raise HydrationError(f"{uri!r} is larger than {self.max_bytes} bytes")
        return path.read_bytes()


@dataclass(frozen=True)
class S3Fetcher:
    region: str
    max_bytes: int

    def __call__(self, uri: str) -> bytes:
        parts = urlsplit(uri)
        bucket, key = parts.netloc, parts.path.lstrip("/")
        if not bucket or not key:
            raise HydrationError(f"{uri!r} must be s3://bucket/key")
        store = DocumentStore(bucket, self.region)
        try:
            if store.size(key) > self.max_bytes:
                raise HydrationError(f"{uri!r} is larger than {self.max_bytes} bytes")
            return store.get(key)
        except DocumentMissing:
            raise HydrationError(f"{uri!r}: no such object") from None


@dataclass(frozen=True)
class CompositeFetcher:
    by_scheme: Mapping[str, Fetch]

    def __call__(self, uri: str) -> bytes:
        scheme = urlsplit(uri).scheme.lower()
        fetch = self.by_scheme.get(scheme)
        if fetch is None:
            allowed = ", ".join(f"{name}:" for name in sorted(self.by_scheme))
            raise HydrationError(f"{uri!r}: scheme {scheme or '(none)'!r} is not one of {allowed}")
        return fetch(uri)
