"""Message envelope cost: sign + encrypt (and open) an 8 KB FHIR payload.

Baseline in the same run: one AES-256-GCM encryption of the same bytes (the cheapest
authenticated encryption), so the ratio says what the JOSE layers add.
Run: `python -m bench.envelope [--n 2000] [--kb 8]`.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from joserfc.jwk import ECKey, KeySet

from bench.machine import describe
from gateway.delivery.envelope import open_message, seal_message


def _per_second(work: Callable[[], object], n: int) -> float:
    started = time.perf_counter()
    for _ in range(n):
        work()
    return n / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.envelope", description=__doc__)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--kb", type=int, default=8)
    args = parser.parse_args()
    payload = json.dumps({"resourceType": "Bundle", "pad": "x" * (args.kb * 1024)}).encode()
    hub = ECKey.generate_key("P-256", private=True)
    hub.ensure_kid()
    receiver = ECKey.generate_key("P-256", private=True)
    published = KeySet([ECKey.import_key(hub.as_dict(private=False))])
    aes, nonce = AESGCM(AESGCM.generate_key(bit_length=256)), os.urandom(12)

    def seal() -> str:
        return seal_message(
            payload,
            message_id="m",
            content_type="application/fhir+json",
            signing_key=hub,
            receiver_key=receiver,
        )

    sealed = seal()
    baseline = _per_second(lambda: aes.encrypt(nonce, payload, None), args.n)
    sealing = _per_second(seal, args.n)
    opening = _per_second(
        lambda: open_message(sealed, receiver_key=receiver, signer_keys=published), args.n
    )
    print(f"machine: {describe()}")
    print(f"payload {len(payload)} bytes, n={args.n}")
    print(f"  AES-256-GCM encrypt (baseline)      {baseline:>10.0f} /s")
    print(
        f"  seal: ES256 JWS + ECDH-ES JWE       {sealing:>10.0f} /s  ratio {sealing / baseline:.4f}"
    )
    print(
        f"  open: decrypt + verify              {opening:>10.0f} /s  ratio {opening / baseline:.4f}"
    )


if __name__ == "__main__":
    main()
