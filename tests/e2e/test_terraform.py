"""Terraform's AWS provider against a real strato, as a team deploys with it: a public bucket
and its page, a private bucket and an origin access identity, an assets bucket behind an origin
access control and signed URLs (a public key and a key group), a layer, a function with its log
group, asynchronous, recursion and runtime settings, an alias, its provisioned concurrency and a public
URL, and a distribution in front of the buckets with custom cache, origin request and response
headers policies, an origin group and a CloudFront function are applied, planned again with no
change (every read answers what was written, in the shapes the provider reads), served, and
destroyed. Needs `terraform` and a local copy of the hashicorp/aws provider (a filesystem mirror:
STRATO_TF_PLUGINS, default /opt/tf-plugins); skipped where either is missing, as there is no
registry to download from."""

from __future__ import annotations

import datetime
import json
import os
import shutil
import subprocess
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from botocore.signers import CloudFrontSigner
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tests.e2e.lambda_helpers import RUNTIME, package
from tests.servers import ACCESS_KEY, SECRET_KEY, StratoServer

MIRROR = Path(os.environ.get("STRATO_TF_PLUGINS", "/opt/tf-plugins"))
PROVIDERS = sorted((MIRROR / "registry.terraform.io/hashicorp/aws").glob("*"))
pytestmark = pytest.mark.skipif(shutil.which("terraform") is None or not PROVIDERS,
                                reason="no terraform, or no local copy of the hashicorp/aws provider")
CLI_CONFIG = f"""provider_installation {{
  filesystem_mirror {{
    path    = "{MIRROR}"
    include = ["registry.terraform.io/*/*"]
  }}
  direct {{
    exclude = ["registry.terraform.io/*/*"]
  }}
}}
"""
HANDLER = ("def handler(event, context):\n    import shared\n"
           "    return {'shared': shared.VALUE, 'path': event['rawPath']}\n")


def terraform(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TF_CLI_CONFIG_FILE": str(workdir / "cli.tfrc"), "TF_IN_AUTOMATION": "1",
           "CHECKPOINT_DISABLE": "1"}
    return subprocess.run(["terraform", *args, "-no-color"], cwd=workdir, env=env, capture_output=True, text=True,
                          timeout=600)


def test_a_stack_is_applied_read_back_without_drift_served_and_destroyed(server: StratoServer,
                                                                          tmp_path: Path) -> None:
    name = f"tf-{uuid.uuid4().hex[:10]}"
    text = (Path(__file__).parent / "terraform" / "main.tf").read_text()
    for key, value in {"PROVIDER_VERSION": PROVIDERS[-1].name, "ACCESS_KEY": ACCESS_KEY, "SECRET_KEY": SECRET_KEY,
                       "ENDPOINT": server.url, "NAME": name, "RUNTIME": RUNTIME, "PORT": str(server.port)}.items():
        text = text.replace(f"@{key}@", value)
    (tmp_path / "main.tf").write_text(text)
    (tmp_path / "cli.tfrc").write_text(CLI_CONFIG)
    (tmp_path / "layer.zip").write_bytes(package({"python/shared.py": "VALUE = 'from the layer'\n"}))
    (tmp_path / "function.zip").write_bytes(package({"handler.py": HANDLER}))
    signing_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = signing_key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    (tmp_path / "signer.pem").write_bytes(public)

    for step in (("init", "-input=false"), ("apply", "-auto-approve", "-input=false")):
        done = terraform(tmp_path, *step)
        assert done.returncode == 0, done.stdout + done.stderr
    try:
        again = terraform(tmp_path, "plan", "-detailed-exitcode")
        assert again.returncode == 0, again.stdout + again.stderr  # 2 would mean a change: drift

        url = json.loads(terraform(tmp_path, "output", "-json").stdout)["function_url"]["value"]
        host = url.removeprefix("http://").rstrip("/")
        request = urllib.request.Request(f"{server.url}/hello", headers={"Host": host})
        with urllib.request.urlopen(request) as response:
            assert json.loads(response.read()) == {"shared": "from the layer", "path": "/hello"}
        for path, body in (("/index.html", b"<h1>deployed by terraform</h1>"),
                           ("/", b"<h1>deployed by terraform</h1>"),  # the CloudFront function's rewrite
                           ("/private/secret.txt", b"from the private bucket"),  # through the identity
                           ("/private/fallback.txt", b"from the public bucket")):  # the group's secondary
            page = urllib.request.Request(f"{server.edge_url}{path}", headers={"Host": f"{name}.example.test"})
            with urllib.request.urlopen(page) as response:
                assert response.read() == body
                if path in ("/", "/index.html"):
                    assert response.headers["X-Deployed-By"] == "terraform"  # the response headers policy's
                    assert response.headers["X-Frame-Options"] == "DENY"
        key_id = json.loads(terraform(tmp_path, "output", "-json").stdout)["signer_key_id"]["value"]
        signer = CloudFrontSigner(key_id, lambda message: signing_key.sign(message, padding.PKCS1v15(), hashes.SHA1()))
        asset = f"http://{name}.example.test/signed/asset.txt"
        signed = signer.generate_presigned_url(asset, date_less_than=datetime.datetime.now(datetime.UTC)
                                               + datetime.timedelta(minutes=5))
        page = urllib.request.Request(signed.replace(f"http://{name}.example.test", server.edge_url),
                                      headers={"Host": f"{name}.example.test"})
        with urllib.request.urlopen(page) as response:  # signed for, read through the access control
            assert response.read() == b"signed for, through the access control"
        with pytest.raises(urllib.error.HTTPError) as unsigned:
            urllib.request.urlopen(urllib.request.Request(f"{server.edge_url}/signed/asset.txt",
                                                          headers={"Host": f"{name}.example.test"}))
        assert unsigned.value.code == 403
        unsigned.value.close()
    finally:
        destroyed = terraform(tmp_path, "destroy", "-auto-approve")
    assert destroyed.returncode == 0, destroyed.stdout + destroyed.stderr
    assert "Destroy complete! Resources: 29 destroyed." in destroyed.stdout
