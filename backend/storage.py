"""Where media bytes live: a local directory (default) or an S3-compatible bucket (docs/media.md).

One small interface — put / get / delete / exists on opaque keys like `2026/11/<hex>.jpg` — so that the
rest of the app never knows which backend is configured. S3 is chosen when `S3_BUCKET` is set.
"""
import os
import re
import tempfile

from flask import current_app

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*$")


class StorageError(RuntimeError):
    """The backend could not do what was asked (not found, unreachable, refused)."""


class ObjectNotFound(StorageError):
    """No object under that key."""


def check_key(key):
    """Keys are relative, slash-separated, with no `..` or absolute parts (they become file paths)."""
    if not isinstance(key, str) or not _KEY.match(key) or ".." in key.split("/") or len(key) > 255:
        raise ValueError(f"bad storage key {key!r}")
    return key


class Storage:
    """The interface: bytes in, bytes out, by key."""

    def put(self, key, data, content_type):
        raise NotImplementedError

    def get(self, key):
        """The object's bytes; ObjectNotFound if absent."""
        raise NotImplementedError

    def delete(self, key):
        """Remove the object; absent objects are not an error (deletes are retried by media-gc)."""
        raise NotImplementedError

    def exists(self, key):
        raise NotImplementedError


class LocalStorage(Storage):
    """Files under one directory (MEDIA_ROOT, default instance/media)."""

    def __init__(self, root):
        self.root = os.path.abspath(root)

    def _path(self, key):
        return os.path.join(self.root, *check_key(key).split("/"))

    def put(self, key, data, content_type):
        path = self._path(key)
        tmp = None
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            # write then rename: a reader never sees half a file, a crash leaves only a temp file
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except OSError as exc:
            if tmp and os.path.exists(tmp):
                os.unlink(tmp)
            raise StorageError(f"write {key}: {exc}") from exc

    def get(self, key):
        try:
            with open(self._path(key), "rb") as fh:
                return fh.read()
        except FileNotFoundError:
            raise ObjectNotFound(key) from None
        except OSError as exc:
            raise StorageError(f"read {key}: {exc}") from exc

    def delete(self, key):
        try:
            os.unlink(self._path(key))
        except FileNotFoundError:
            pass

    def exists(self, key):
        return os.path.isfile(self._path(key))


class S3Storage(Storage):
    """Objects in an S3-compatible bucket through boto3 (AWS, MinIO, Aliyun OSS/Tencent COS S3 APIs)."""

    def __init__(self, bucket, endpoint_url=None, access_key_id=None, secret_access_key=None, region=None):
        import boto3
        from botocore.config import Config as BotoConfig

        self.bucket = bucket
        self.client = boto3.client(
            "s3",
            endpoint_url=endpoint_url or None,
            aws_access_key_id=access_key_id or None,
            aws_secret_access_key=secret_access_key or None,
            region_name=region or None,
            config=BotoConfig(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=30),
        )

    def _call(self, method, key, **kwargs):
        """One S3 call; botocore's many exception types become StorageError / ObjectNotFound."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self.client, method)(Bucket=self.bucket, Key=check_key(key), **kwargs)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
                raise ObjectNotFound(key) from None
            raise StorageError(f"s3 {method} {key}: {exc}") from exc
        except BotoCoreError as exc:
            raise StorageError(f"s3 {method} {key}: {exc}") from exc

    def put(self, key, data, content_type):
        self._call("put_object", key, Body=data, ContentType=content_type)

    def get(self, key):
        from botocore.exceptions import BotoCoreError

        body = self._call("get_object", key)["Body"]
        try:
            return body.read()
        except BotoCoreError as exc:
            raise StorageError(f"s3 read {key}: {exc}") from exc

    def delete(self, key):
        self._call("delete_object", key)

    def exists(self, key):
        try:
            self._call("head_object", key)
            return True
        except ObjectNotFound:
            return False


def from_config(config):
    """The backend the settings name: S3 when S3_BUCKET is set, else the MEDIA_ROOT directory."""
    if config.get("S3_BUCKET"):
        return S3Storage(config["S3_BUCKET"], config.get("S3_ENDPOINT_URL"), config.get("S3_ACCESS_KEY_ID"),
                         config.get("S3_SECRET_ACCESS_KEY"), config.get("S3_REGION"))
    return LocalStorage(config["MEDIA_ROOT"])


def storage():
    """The app's storage backend, built once per app from its config."""
    ext = current_app.extensions
    if "linli.storage" not in ext:
        ext["linli.storage"] = from_config(current_app.config)
    return ext["linli.storage"]
