"""Signatures against the published known-answer vectors (PROTOCOL.md)."""

from __future__ import annotations

from pusher_django import signing

KEY = "278d425bdf160c739803"
SECRET = "7ad3773142a6692b25b8"


def test_private_channel_vector():
    token = signing.channel_auth_token(KEY, SECRET, "1234.1234", "private-foobar")
    assert token == f"{KEY}:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4"


def test_presence_channel_vector_with_corrected_expectation():
    channel_data = '{"user_id":10,"user_info":{"name":"Mr. Channels"}}'
    signature = signing.channel_signature(SECRET, "1234.1234", "presence-foobar", channel_data)
    assert signature == "31935e7d86dba64c2a90aed31fdc61869f9b22ba9d8863bba239c03ca481bc80"


def test_user_sign_in_vector():
    token = signing.user_auth_token(KEY, SECRET, "1234.1234", '{"id":"12345"}')
    assert token == f"{KEY}:4708d583dada6a56435fb8bc611c77c359a31eebde13337c16ab43aa6de336ba"


def test_rest_request_vector():
    body = b'{"name":"foo","channels":["project-3"],"data":"{\\"some\\":\\"data\\"}"}'
    query = signing.sign_rest_request(
        key=KEY,
        secret=SECRET,
        method="POST",
        path="/apps/3/events",
        body=body,
        timestamp=1353088179,
    )
    assert query["body_md5"] == "ec365a775a4cd0599faeb73354201b6f"
    assert query["auth_signature"] == (
        "da454824c97ba181a32ccc17a72625ba02771f50b50e1e7430e47a1f3f457e6c"
    )


def test_get_request_has_no_body_md5_and_sorts_params():
    query = signing.sign_rest_request(
        key=KEY,
        secret=SECRET,
        method="GET",
        path="/apps/3/channels",
        params={"info": "user_count", "filter_by_prefix": "presence-"},
        timestamp=1,
    )
    assert "body_md5" not in query
    expected = signing.hmac_sha256_hex(
        SECRET,
        "GET\n/apps/3/channels\nauth_key=278d425bdf160c739803&auth_timestamp=1&auth_version=1.0"
        "&filter_by_prefix=presence-&info=user_count",
    )
    assert query["auth_signature"] == expected


def test_webhook_signature_is_checked():
    body = b'{"time_ms":1,"events":[]}'
    good = signing.hmac_sha256_hex(SECRET, body)
    assert signing.verify_signature(SECRET, body, good)
    assert signing.verify_signature(SECRET, body, good.upper())
    assert not signing.verify_signature(SECRET, body + b" ", good)
    assert not signing.verify_signature(SECRET, body, "")
    assert not signing.verify_signature("other", body, good)
