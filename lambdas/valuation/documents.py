"""The object store for large documents and uploads: S3 in AWS, moto's S3 on the local stack.

Documents above CLAIM_CHECK_BYTES go here and Redis keeps a reference to them (claim check), so
that Redis holds small values whatever the size of a request.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.exceptions import ClientError

REFERENCE_PREFIX = "@s3://"


class DocumentMissing(LookupError):
    """No object under that key (an unknown upload, an expired document)."""


@cache
def _s3(region: str) -> Any:
    return boto3.client("s3", region_name=region)


class DocumentStore:
    def __init__(self, bucket: str, region: str):
        self.bucket = bucket
        self.region = region

    def put(self, key: str, data: bytes) -> str:
        """Store `data`; return the reference Redis keeps in its place."""
        _s3(self.region).put_object(
            Bucket=self.bucket, Key=key, Body=data, ContentType="application/xml"
        )
        return f"{REFERENCE_PREFIX}{self.bucket}/{key}"

    def get(self, key: str) -> bytes:
        try:
            return _s3(self.region).get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("NoSuchKey", "404"):
                raise DocumentMissing(key) from None
            raise

    def size(self, key: str) -> int:
        try:
            return _s3(self.region).head_object(Bucket=self.bucket, Key=key)["ContentLength"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("NoSuchKey", "404"):
                raise DocumentMissing(key) from None
            raise

    def resolve(self, value: str) -> str:
        """The document a Redis value stands for: itself, or the object it refers to."""
        if not value.startswith(REFERENCE_PREFIX):
            return value
        _, key = value[len(REFERENCE_PREFIX):].split("/", 1)
        return self.get(key).decode("utf-8")

    def upload_url(self, key: str, expires_in: int) -> str:
        """A presigned PUT URL for a client to upload a document directly to S3."""
        return _s3(self.region).generate_presigned_url(
            "put_object",
            Params={"Bucket": self.bucket, "Key": key, "ContentType": "application/xml"},
            ExpiresIn=expires_in,
        )

    def ensure_bucket(self) -> None:
        """Create the bucket (the local stack's object store)."""
        _s3(self.region).create_bucket(Bucket=self.bucket)
