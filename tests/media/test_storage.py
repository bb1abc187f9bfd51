"""The storage interface, the same tests on both backends (local directory, S3 on a moto server)."""
import pytest

from backend.storage import LocalStorage, ObjectNotFound, S3Storage, check_key, from_config
from tests.media.support import s3_server, store  # noqa: F401 — fixtures


def test_put_get_exists_delete(store):
    key = "2026/11/abc123.jpg"
    assert not store.exists(key)
    store.put(key, b"\xff\xd8first", "image/jpeg")
    assert store.exists(key) and store.get(key) == b"\xff\xd8first"
    store.put(key, b"\xff\xd8second", "image/jpeg")  # overwrite replaces
    assert store.get(key) == b"\xff\xd8second"
    store.delete(key)
    assert not store.exists(key)
    store.delete(key)  # deleting what is gone is not an error (media-gc retries)
    with pytest.raises(ObjectNotFound):
        store.get(key)


def test_s3_objects_carry_their_content_type(s3_server):
    from tests.media.support import make_s3

    s3 = make_s3(s3_server)
    s3.put("a/b.pdf", b"%PDF-1.4", "application/pdf")
    assert s3.client.head_object(Bucket=s3.bucket, Key="a/b.pdf")["ContentType"] == "application/pdf"


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs/key", "a/../../b", "a//b", "", "a/b\\c", "a/.hidden/../x"])
def test_keys_cannot_escape(store, key):
    with pytest.raises(ValueError):
        store.put(key, b"x", "image/jpeg")
    with pytest.raises(ValueError):
        check_key(key)


def test_backend_chosen_from_config(tmp_path, s3_server):
    local = from_config({"MEDIA_ROOT": str(tmp_path), "S3_BUCKET": ""})
    assert isinstance(local, LocalStorage) and local.root == str(tmp_path)
    s3 = from_config({"MEDIA_ROOT": str(tmp_path), "S3_BUCKET": "photos", "S3_ENDPOINT_URL": s3_server,
                      "S3_ACCESS_KEY_ID": "k", "S3_SECRET_ACCESS_KEY": "s", "S3_REGION": "us-east-1"})
    assert isinstance(s3, S3Storage) and s3.bucket == "photos"
