"""SigV4 query presigning (UNSIGNED-PAYLOAD, host the only signed header), the same URLs
boto3's `generate_presigned_url` makes, ~50x cheaper: a PUT benchmark needs one URL per
request, a few hundred thousand of them."""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import quote, urlsplit


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


class Presigner:
    def __init__(self, endpoint: str, access_key: str, secret_key: str, region: str,
                 expires: int = 7 * 24 * 3600, now: float | None = None) -> None:
        self.host = urlsplit(endpoint).netloc
        stamp = time.gmtime(time.time() if now is None else now)
        self.amz_date = time.strftime("%Y%m%dT%H%M%SZ", stamp)
        day = self.amz_date[:8]
        self.scope = f"{day}/{region}/s3/aws4_request"
        key = _hmac(_hmac(_hmac(_hmac(f"AWS4{secret_key}".encode(), day), region), "s3"), "aws4_request")
        self.key = key
        params = {
            "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
            "X-Amz-Credential": f"{access_key}/{self.scope}",
            "X-Amz-Date": self.amz_date,
            "X-Amz-Expires": str(expires),
            "X-Amz-SignedHeaders": "host",
        }
        self.canonical_query = "&".join(f"{k}={quote(v, safe='-_.~')}" for k, v in sorted(params.items()))
        order = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Expires")
        self.query = "&".join(f"{k}={quote(params[k], safe='-_.~')}" for k in order)  # boto3's order

    def path(self, method: str, bucket: str, key: str) -> str:
        """The presigned request target (path and query) for `method` on bucket/key."""
        uri = quote(f"/{bucket}/{key}", safe="/-_.~")
        canonical = f"{method}\n{uri}\n{self.canonical_query}\nhost:{self.host}\n\nhost\nUNSIGNED-PAYLOAD"
        digest = hashlib.sha256(canonical.encode()).hexdigest()
        to_sign = f"AWS4-HMAC-SHA256\n{self.amz_date}\n{self.scope}\n{digest}"
        signature = hmac.new(self.key, to_sign.encode(), hashlib.sha256).hexdigest()
        return f"{uri}?{self.query}&X-Amz-Signature={signature}"
