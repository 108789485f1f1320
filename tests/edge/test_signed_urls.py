"""CloudFront signed URLs: real RSA keys, real URLs signed by botocore's CloudFrontSigner."""

from __future__ import annotations

import base64
import datetime
import json
from collections.abc import Callable

import pytest
from botocore.signers import CloudFrontSigner
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from strato.edge.signed_urls import (
    KeyGroup,
    Reason,
    SignedUrlError,
    TrustedKeys,
    canned_policy,
    key_groups_from_pem,
    resource_matches,
    strip_signing_params,
    verify_signed_url,
)

HOST = "https://d111111abcdef8.cloudfront.net"
NOW = 1_700_000_000.0
KEY_ID = "K2JCJMDEHXQW5F"


def at(epoch: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(epoch, tz=datetime.UTC)


@pytest.fixture(scope="module")
def private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def other_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def rsa_signer(key: rsa.RSAPrivateKey, algorithm: hashes.HashAlgorithm | None = None) -> Callable[[bytes], bytes]:
    """The signer botocore's documentation asks for: RSA PKCS#1 v1.5, over SHA-1 unless told."""
    return lambda message: key.sign(message, padding.PKCS1v15(), algorithm or hashes.SHA1())


@pytest.fixture(scope="module")
def signer(private_key: rsa.RSAPrivateKey) -> CloudFrontSigner:
    return CloudFrontSigner(KEY_ID, rsa_signer(private_key))


@pytest.fixture(scope="module")
def sha256(private_key: rsa.RSAPrivateKey) -> CloudFrontSigner:
    """The same key, signing SHA-256 digests."""
    return CloudFrontSigner(KEY_ID, rsa_signer(private_key, hashes.SHA256()))


@pytest.fixture(scope="module")
def groups(private_key: rsa.RSAPrivateKey) -> list[KeyGroup]:
    return [KeyGroup("other-group", {}), KeyGroup("media", {KEY_ID: private_key.public_key()})]


def canned(signer: CloudFrontSigner, url: str, expires: float = NOW + 3600) -> str:
    signed: str = signer.generate_presigned_url(url, date_less_than=at(expires))
    return signed


def custom(signer: CloudFrontSigner, url: str, resource: str, expires: float = NOW + 3600,
           starts: float | None = None, ip: str | None = None) -> str:
    policy = signer.build_policy(resource, at(expires), date_greater_than=None if starts is None else at(starts),
                                 ip_address=ip)
    signed: str = signer.generate_presigned_url(url, policy=policy)
    return signed


def refusal(url: str, groups: list[KeyGroup], now: float = NOW, client_ip: str | None = None) -> Reason:
    with pytest.raises(SignedUrlError) as caught:
        verify_signed_url(url, groups, now, client_ip)
    return caught.value.reason


class TestCannedPolicy:
    def test_a_url_signed_by_botocore_is_accepted(self, signer: CloudFrontSigner, groups: list[KeyGroup]) -> None:
        url = canned(signer, f"{HOST}/images/horizon.jpg")
        assert "Expires=" in url
        assert "Policy=" not in url
        verify_signed_url(url, groups, NOW)

    def test_a_url_with_its_own_query_is_accepted(self, signer: CloudFrontSigner, groups: list[KeyGroup]) -> None:
        verify_signed_url(canned(signer, f"{HOST}/images/horizon.jpg?size=large&license=yes"), groups, NOW)

    def test_an_encoded_path_and_query_are_signed_as_they_are(self, signer: CloudFrontSigner,
                                                              groups: list[KeyGroup]) -> None:
        verify_signed_url(canned(signer, f"{HOST}/a%20b/c+d.txt?q=x%2By"), groups, NOW)

    def test_the_policy_is_the_one_botocore_signs(self, signer: CloudFrontSigner) -> None:
        url = f"{HOST}/images/horizon.jpg"
        assert canned_policy(url, 1700003600) == signer.build_policy(url, at(1700003600)).encode()
        assert canned_policy(url, 5) == (
            b'{"Statement":[{"Resource":"https://d111111abcdef8.cloudfront.net/images/horizon.jpg",'
            b'"Condition":{"DateLessThan":{"AWS:EpochTime":5}}}]}')

    def test_a_canned_url_is_valid_until_just_before_it_expires(self, signer: CloudFrontSigner,
                                                               groups: list[KeyGroup]) -> None:
        url = canned(signer, f"{HOST}/a.jpg", expires=NOW + 10)
        verify_signed_url(url, groups, NOW + 9.999)
        assert refusal(url, groups, now=NOW + 10) is Reason.EXPIRED
        assert refusal(url, groups, now=NOW + 3600) is Reason.EXPIRED

    def test_another_path_is_refused(self, signer: CloudFrontSigner, groups: list[KeyGroup]) -> None:
        url = canned(signer, f"{HOST}/images/horizon.jpg")
        assert refusal(url.replace("horizon", "sunset"), groups) is Reason.BAD_SIGNATURE

    def test_another_host_is_refused(self, signer: CloudFrontSigner, groups: list[KeyGroup]) -> None:
        url = canned(signer, f"{HOST}/a.jpg")
        assert refusal(url.replace("d111111abcdef8", "d222222abcdef8"), groups) is Reason.BAD_SIGNATURE

    def test_an_added_query_parameter_is_refused(self, signer: CloudFrontSigner, groups: list[KeyGroup]) -> None:
        url = canned(signer, f"{HOST}/a.jpg?size=small")
        assert refusal(url.replace("size=small", "size=large"), groups) is Reason.BAD_SIGNATURE
        assert refusal(url + "&extra=1", groups) is Reason.BAD_SIGNATURE

    def test_a_later_expiry_is_refused(self, signer: CloudFrontSigner, groups: list[KeyGroup]) -> None:
        url = canned(signer, f"{HOST}/a.jpg", expires=NOW + 60)
        assert refusal(url.replace(f"Expires={int(NOW + 60)}", f"Expires={int(NOW + 86400)}"), groups) \
            is Reason.BAD_SIGNATURE

    def test_a_signature_by_another_key_is_refused(self, other_key: rsa.RSAPrivateKey,
                                                   groups: list[KeyGroup]) -> None:
        forged = CloudFrontSigner(KEY_ID, rsa_signer(other_key))
        assert refusal(canned(forged, f"{HOST}/a.jpg"), groups) is Reason.BAD_SIGNATURE

    def test_an_unknown_key_pair_id_is_refused(self, other_key: rsa.RSAPrivateKey, groups: list[KeyGroup]) -> None:
        stranger = CloudFrontSigner("KUNKNOWN", rsa_signer(other_key))
        assert refusal(canned(stranger, f"{HOST}/a.jpg"), groups) is Reason.UNKNOWN_KEY

    def test_a_key_is_found_in_any_group(self, other_key: rsa.RSAPrivateKey, signer: CloudFrontSigner,
                                         groups: list[KeyGroup]) -> None:
        second = CloudFrontSigner("K2NDKEY", rsa_signer(other_key))
        both = [*groups, KeyGroup("more", {"K2NDKEY": other_key.public_key()})]
        verify_signed_url(canned(second, f"{HOST}/a.jpg"), both, NOW)
        verify_signed_url(canned(signer, f"{HOST}/a.jpg"), both, NOW)


class TestCustomPolicy:
    def test_a_url_signed_by_botocore_is_accepted(self, signer: CloudFrontSigner, groups: list[KeyGroup]) -> None:
        url = custom(signer, f"{HOST}/training/orientation.avi", f"{HOST}/training/orientation.avi")
        assert "Policy=" in url
        assert "Expires=" not in url
        verify_signed_url(url, groups, NOW)

    def test_a_wildcard_resource_covers_a_tree(self, signer: CloudFrontSigner, groups: list[KeyGroup]) -> None:
        for path in ("/training/a.avi", "/training/deep/b.avi?x=1", "/training/"):
            verify_signed_url(custom(signer, f"{HOST}{path}", f"{HOST}/training/*"), groups, NOW)

    def test_a_wildcard_resource_refuses_what_it_does_not_cover(self, signer: CloudFrontSigner,
                                                               groups: list[KeyGroup]) -> None:
        url = custom(signer, f"{HOST}/private/a.avi", f"{HOST}/training/*")
        assert refusal(url, groups) is Reason.RESOURCE_MISMATCH

    def test_a_wildcard_scheme_and_extension(self, signer: CloudFrontSigner, groups: list[KeyGroup]) -> None:
        resource = "http*://d111111abcdef8.cloudfront.net/*.jpg"
        verify_signed_url(custom(signer, "http://d111111abcdef8.cloudfront.net/a/b.jpg", resource), groups, NOW)
        verify_signed_url(custom(signer, f"{HOST}/c.jpg", resource), groups, NOW)
        assert refusal(custom(signer, f"{HOST}/c.png", resource), groups) is Reason.RESOURCE_MISMATCH

    def test_a_question_mark_matches_one_character(self, signer: CloudFrontSigner, groups: list[KeyGroup]) -> None:
        resource = f"{HOST}/v?/index.m3u8"
        verify_signed_url(custom(signer, f"{HOST}/v1/index.m3u8", resource), groups, NOW)
        assert refusal(custom(signer, f"{HOST}/v10/index.m3u8", resource), groups) is Reason.RESOURCE_MISMATCH

    def test_the_whole_distribution(self, signer: CloudFrontSigner, groups: list[KeyGroup]) -> None:
        verify_signed_url(custom(signer, f"{HOST}/any/thing?q=1", "*"), groups, NOW)

    def test_a_query_outside_the_resource_is_refused(self, signer: CloudFrontSigner, groups: list[KeyGroup]) -> None:
        url = custom(signer, f"{HOST}/a.jpg?user=eve", f"{HOST}/a.jpg")
        assert refusal(url, groups) is Reason.RESOURCE_MISMATCH

    def test_the_policy_window_in_time(self, signer: CloudFrontSigner, groups: list[KeyGroup]) -> None:
        url = custom(signer, f"{HOST}/a.jpg", f"{HOST}/*", starts=NOW + 100, expires=NOW + 200)
        assert refusal(url, groups, now=NOW) is Reason.NOT_YET_VALID
        assert refusal(url, groups, now=NOW + 99.5) is Reason.NOT_YET_VALID
        verify_signed_url(url, groups, NOW + 100)
        verify_signed_url(url, groups, NOW + 199)
        assert refusal(url, groups, now=NOW + 200) is Reason.EXPIRED

    def test_an_expired_custom_policy_is_refused(self, signer: CloudFrontSigner, groups: list[KeyGroup]) -> None:
        url = custom(signer, f"{HOST}/a.jpg", f"{HOST}/*", expires=NOW - 1)
        assert refusal(url, groups) is Reason.EXPIRED

    def test_an_ip_condition_admits_its_subnet(self, signer: CloudFrontSigner, groups: list[KeyGroup]) -> None:
        url = custom(signer, f"{HOST}/a.jpg", f"{HOST}/*", ip="192.0.2.0/24")
        verify_signed_url(url, groups, NOW, client_ip="192.0.2.77")
        verify_signed_url(url, groups, NOW, client_ip="::ffff:192.0.2.1")
        assert refusal(url, groups, client_ip="198.51.100.7") is Reason.IP_NOT_ALLOWED
        assert refusal(url, groups, client_ip="2001:db8::1") is Reason.IP_NOT_ALLOWED
        assert refusal(url, groups, client_ip="not-an-ip") is Reason.IP_NOT_ALLOWED

    def test_a_single_address_condition(self, signer: CloudFrontSigner, groups: list[KeyGroup]) -> None:
        """botocore turns a bare address into a /32."""
        url = custom(signer, f"{HOST}/a.jpg", f"{HOST}/*", ip="203.0.113.9")
        verify_signed_url(url, groups, NOW, client_ip="203.0.113.9")
        assert refusal(url, groups, client_ip="203.0.113.10") is Reason.IP_NOT_ALLOWED

    def test_an_ipv6_condition(self, signer: CloudFrontSigner, groups: list[KeyGroup]) -> None:
        url = custom(signer, f"{HOST}/a.jpg", f"{HOST}/*", ip="2001:db8::/32")
        verify_signed_url(url, groups, NOW, client_ip="2001:db8:1::5")
        assert refusal(url, groups, client_ip="2001:db9::5") is Reason.IP_NOT_ALLOWED

    def test_an_ip_condition_refuses_an_unknown_client(self, signer: CloudFrontSigner,
                                                       groups: list[KeyGroup]) -> None:
        url = custom(signer, f"{HOST}/a.jpg", f"{HOST}/*", ip="192.0.2.0/24")
        assert refusal(url, groups, client_ip=None) is Reason.IP_NOT_ALLOWED

    def test_a_policy_without_resource_allows_any_url(self, signer: CloudFrontSigner, groups: list[KeyGroup]) -> None:
        policy = json.dumps({"Statement": [{"Condition": {"DateLessThan": {"AWS:EpochTime": int(NOW) + 60}}}]},
                            separators=(",", ":"))
        verify_signed_url(signer.generate_presigned_url(f"{HOST}/x", policy=policy), groups, NOW)

    def test_a_tampered_policy_is_refused(self, signer: CloudFrontSigner, groups: list[KeyGroup]) -> None:
        url = custom(signer, f"{HOST}/training/a.avi", f"{HOST}/training/*")
        encoded = url.split("Policy=")[1].split("&")[0]
        policy = base64.b64decode(encoded.replace("-", "+").replace("_", "=").replace("~", "/"))
        widened = policy.replace(b"/training/*", b"/*")
        forged = base64.b64encode(widened).replace(b"+", b"-").replace(b"=", b"_").replace(b"/", b"~").decode()
        assert refusal(url.replace(encoded, forged), groups) is Reason.BAD_SIGNATURE

    def test_a_signed_policy_that_is_not_a_policy_is_malformed(self, signer: CloudFrontSigner,
                                                               groups: list[KeyGroup]) -> None:
        for policy in ("[]", "{}", '{"Statement":[]}', '{"Statement":[{"Resource":"*"}]}',
                       '{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":"soon"}}}]}',
                       '{"Statement":[{"Condition":{"DateGreaterThan":{"AWS:EpochTime":1}}}]}',
                       '{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":9999999999},'
                       '"IpAddress":{"AWS:SourceIp":"999.1.1.1/8"}}}]}', "not json", "[" * 5000 + "]" * 5000):
            url = signer.generate_presigned_url(f"{HOST}/x", policy=policy)
            assert refusal(url, groups, client_ip="192.0.2.1") is Reason.MALFORMED, policy


class TestHashAlgorithm:
    """AWS CloudFront DeveloperGuide/private-content-creating-signed-url-canned-policy.html and
    private-content-setting-signed-cookie-canned-policy.html: Hash-Algorithm=SHA256 (the
    CloudFront-Hash-Algorithm cookie) for a signature over SHA-256; SHA-1 without it."""

    def test_canned_and_custom_urls_signed_over_sha256(self, sha256: CloudFrontSigner, groups: list[KeyGroup]) -> None:
        verify_signed_url(canned(sha256, f"{HOST}/a.jpg?x=1") + "&Hash-Algorithm=SHA256", groups, NOW)
        verify_signed_url(custom(sha256, f"{HOST}/a.jpg", f"{HOST}/*") + "&Hash-Algorithm=SHA256", groups, NOW)

    def test_the_algorithm_named_is_the_one_checked(self, signer: CloudFrontSigner, sha256: CloudFrontSigner,
                                                    groups: list[KeyGroup]) -> None:
        assert refusal(canned(sha256, f"{HOST}/a.jpg"), groups) is Reason.BAD_SIGNATURE
        assert refusal(canned(signer, f"{HOST}/a.jpg") + "&Hash-Algorithm=SHA256", groups) is Reason.BAD_SIGNATURE
        verify_signed_url(canned(signer, f"{HOST}/a.jpg") + "&Hash-Algorithm=SHA1", groups, NOW)
        assert refusal(canned(signer, f"{HOST}/a.jpg") + "&Hash-Algorithm=MD5", groups) is Reason.MALFORMED

    def test_signed_cookies_name_it_in_their_own_cookie(self, sha256: CloudFrontSigner,
                                                        groups: list[KeyGroup]) -> None:
        expires = int(NOW + 600)
        cookie = cookies(sha256, canned_policy(f"{HOST}/v/1.mp4", expires).decode(), expires)
        guard = TrustedKeys(groups)
        assert guard.refusal(f"{HOST}/v/1.mp4", NOW, "", cookie + "; CloudFront-Hash-Algorithm=SHA256") is None
        assert guard.refusal(f"{HOST}/v/1.mp4", NOW, "", cookie) == Reason.BAD_SIGNATURE

    def test_it_is_stripped_with_the_other_signing_parameters(self) -> None:
        assert strip_signing_params(f"{HOST}/a.jpg?x=1&Expires=1&Signature=s&Key-Pair-Id=K&Hash-Algorithm=SHA256") \
            == f"{HOST}/a.jpg?x=1"


class TestEcdsaKeys:
    """API_PublicKey: ECDSA 256 keys sign URLs and cookies too (DER signatures, as `openssl sha1
    -sign` makes them in DeveloperGuide/private-content-linux-openssl.html)."""

    def test_urls_signed_by_an_ecdsa_key_are_accepted(self) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
        groups = key_groups_from_pem({"media": {"KEC": pem}})
        sha1 = CloudFrontSigner("KEC", lambda message: key.sign(message, ec.ECDSA(hashes.SHA1())))
        sha256 = CloudFrontSigner("KEC", lambda message: key.sign(message, ec.ECDSA(hashes.SHA256())))
        verify_signed_url(canned(sha1, f"{HOST}/a.jpg"), groups, NOW)
        verify_signed_url(custom(sha256, f"{HOST}/a.jpg", f"{HOST}/*") + "&Hash-Algorithm=SHA256", groups, NOW)
        assert refusal(canned(sha1, f"{HOST}/a.jpg").replace("a.jpg", "b.jpg"), groups) is Reason.BAD_SIGNATURE


class TestMalformedUrls:
    def test_an_unsigned_url_is_refused(self, groups: list[KeyGroup]) -> None:
        assert refusal(f"{HOST}/a.jpg", groups) is Reason.MISSING_SIGNATURE
        assert refusal(f"{HOST}/a.jpg?Expires=2000000000&Key-Pair-Id={KEY_ID}", groups) is Reason.MISSING_SIGNATURE

    def test_an_empty_key_pair_id_is_a_missing_one(self, signer: CloudFrontSigner, groups: list[KeyGroup]) -> None:
        """CloudFront answers MissingKey for a Key-Pair-Id that is missing or empty (knowledge
        center: cloudfront-troubleshoot-signed-url-cookies)."""
        assert refusal(canned(signer, f"{HOST}/a.jpg").replace(KEY_ID, ""), groups) is Reason.MISSING_SIGNATURE
        assert TrustedKeys(groups).refusal(f"{HOST}/a.jpg", NOW, "", cookies(signer, "{}").replace(
            KEY_ID, "")) == Reason.MISSING_SIGNATURE

    def test_a_signature_without_expires_or_policy_is_refused(self, signer: CloudFrontSigner,
                                                              groups: list[KeyGroup]) -> None:
        signature = canned(signer, f"{HOST}/a.jpg").split("Signature=")[1].split("&")[0]
        assert refusal(f"{HOST}/a.jpg?Signature={signature}&Key-Pair-Id={KEY_ID}", groups) is Reason.MISSING_SIGNATURE

    def test_a_signature_that_is_not_base64_is_malformed(self, signer: CloudFrontSigner,
                                                         groups: list[KeyGroup]) -> None:
        url = canned(signer, f"{HOST}/a.jpg")
        signature = url.split("Signature=")[1].split("&")[0]
        assert refusal(url.replace(signature, "%%%"), groups) is Reason.MALFORMED

    def test_a_non_numeric_expires_is_malformed(self, groups: list[KeyGroup]) -> None:
        url = f"{HOST}/a.jpg?Expires=soon&Signature=AAAA&Key-Pair-Id={KEY_ID}"
        assert refusal(url, groups) is Reason.MALFORMED

    def test_a_signing_parameter_given_twice_is_malformed(self, signer: CloudFrontSigner,
                                                          groups: list[KeyGroup]) -> None:
        assert refusal(canned(signer, f"{HOST}/a.jpg") + f"&Key-Pair-Id={KEY_ID}", groups) is Reason.MALFORMED

    def test_the_error_carries_its_reason(self) -> None:
        error = SignedUrlError(Reason.EXPIRED, "at 5")
        assert error.reason == "expired"
        assert str(error) == "expired: at 5"


class TestStrippingSigningParams:
    def test_a_url_without_a_query_gets_its_own_back(self, signer: CloudFrontSigner) -> None:
        url = f"{HOST}/images/horizon.jpg"
        assert strip_signing_params(canned(signer, url)) == url
        assert strip_signing_params(custom(signer, url, url)) == url

    def test_other_parameters_keep_their_order_and_encoding(self, signer: CloudFrontSigner) -> None:
        url = f"{HOST}/a.jpg?z=1&a=%2F&flag&b="
        assert strip_signing_params(canned(signer, url)) == url

    def test_an_empty_query_is_kept_as_signed(self, signer: CloudFrontSigner) -> None:
        assert strip_signing_params(canned(signer, f"{HOST}/a.jpg?")) == f"{HOST}/a.jpg?"

    def test_a_url_with_nothing_to_strip_is_unchanged(self) -> None:
        assert strip_signing_params(f"{HOST}/a.jpg?x=1") == f"{HOST}/a.jpg?x=1"
        assert strip_signing_params(f"{HOST}/a.jpg") == f"{HOST}/a.jpg"

    def test_a_fragment_is_dropped(self) -> None:
        assert strip_signing_params(f"{HOST}/a.jpg#top") == f"{HOST}/a.jpg"


class TestResourcePatterns:
    @pytest.mark.parametrize(("pattern", "url"), [
        ("*", "https://h/anything?at=all"),
        ("https://h/a.jpg", "https://h/a.jpg"),
        ("https://h/*", "https://h/"),
        ("https://h/a?c", "https://h/abc"),
        ("https://h/a.jpg?size=*", "https://h/a.jpg?size=large"),
        ("https://h/(x)+[y].jpg", "https://h/(x)+[y].jpg"),
    ])
    def test_matches(self, pattern: str, url: str) -> None:
        assert resource_matches(pattern, url)

    @pytest.mark.parametrize(("pattern", "url"), [
        ("https://h/a.jpg", "https://h/a.jpgx"),
        ("https://h/a.jpg", "https://h/aXjpg"),
        ("https://h/a?c", "https://h/ac"),
        ("https://h/*", "http://h/a"),
        ("https://h/a/*", "https://h/b/a/c"),
    ])
    def test_mismatches(self, pattern: str, url: str) -> None:
        assert not resource_matches(pattern, url)


def cloudfront_b64(data: bytes) -> str:
    return base64.b64encode(data).decode().replace("+", "-").replace("=", "_").replace("/", "~")


def cookies(signer: CloudFrontSigner, policy: str, canned_expires: int | None = None) -> str:
    """The Cookie field CloudFront's signed-cookie documentation describes, signed by the URL signer's key."""
    signature = cloudfront_b64(signer.rsa_signer(policy.encode()))
    first = f"CloudFront-Expires={canned_expires}" if canned_expires is not None else \
        f"CloudFront-Policy={cloudfront_b64(policy.encode())}"
    return f"{first}; CloudFront-Signature={signature}; CloudFront-Key-Pair-Id={signer.key_id}; theme=dark"


class TestTrustedKeys:
    """What the proxy calls: a behaviour's key groups, answering with a refusal reason or None."""

    def test_keys_load_from_the_registrys_pem(self, private_key: rsa.RSAPrivateKey, signer: CloudFrontSigner) -> None:
        pem = private_key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()
        guard = TrustedKeys(key_groups_from_pem({"media": {KEY_ID: pem, "KBROKEN": "not a key"}}))
        assert guard.refusal(canned(signer, f"{HOST}/a.jpg"), NOW, "192.0.2.1") is None
        assert guard.refusal(f"{HOST}/a.jpg", NOW, "192.0.2.1") == Reason.MISSING_SIGNATURE
        assert guard.refusal(canned(signer, f"{HOST}/a.jpg", NOW - 1), NOW, "192.0.2.1") == Reason.EXPIRED

    def test_signed_cookies_with_a_custom_policy_admit_the_urls_it_covers(
        self, signer: CloudFrontSigner, groups: list[KeyGroup]
    ) -> None:
        policy = signer.build_policy(f"{HOST}/videos/*", at(NOW + 600))
        guard = TrustedKeys(groups)
        assert guard.refusal(f"{HOST}/videos/1.mp4?q=1", NOW, "", cookies(signer, policy)) is None
        assert guard.refusal(f"{HOST}/music/1.mp3", NOW, "", cookies(signer, policy)) == Reason.RESOURCE_MISMATCH
        assert guard.refusal(f"{HOST}/videos/1.mp4", NOW + 601, "", cookies(signer, policy)) == Reason.EXPIRED

    def test_signed_cookies_with_a_canned_policy_name_one_url(
        self, signer: CloudFrontSigner, groups: list[KeyGroup]
    ) -> None:
        expires = int(NOW + 600)
        cookie = cookies(signer, canned_policy(f"{HOST}/videos/1.mp4", expires).decode(), expires)
        guard = TrustedKeys(groups)
        assert guard.refusal(f"{HOST}/videos/1.mp4", NOW, "", cookie) is None
        assert guard.refusal(f"{HOST}/videos/2.mp4", NOW, "", cookie) == Reason.BAD_SIGNATURE

    def test_a_cookie_without_cloudfront_values_is_no_signature(self, groups: list[KeyGroup]) -> None:
        assert TrustedKeys(groups).refusal(f"{HOST}/a.jpg", NOW, "", "theme=dark") == Reason.MISSING_SIGNATURE
