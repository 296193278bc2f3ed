"""docs/receiving.md's example receiver, run as written, opens a message the hub sealed."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from joserfc.jwk import ECKey, OKPKey

from gateway.delivery.envelope import seal_message

DOC = Path(__file__).resolve().parents[3] / "docs" / "receiving.md"


def _example() -> Callable[..., tuple[str, dict[str, Any]]]:
    code = re.search(r"```python\n(.*?)```", DOC.read_text(), re.S)
    assert code, "docs/receiving.md lost its example"
    namespace: dict[str, Any] = {}
    exec(compile(code.group(1), str(DOC), "exec"), namespace)
    opener = namespace["open_refhub_message"]
    assert callable(opener)
    return opener


def test_the_documented_receiver_opens_a_real_message() -> None:
    hub = ECKey.generate_key("P-256", private=True)
    hub.ensure_kid()
    for receiver in (
        ECKey.generate_key("P-384", private=True),
        OKPKey.generate_key("X25519", private=True),
    ):
        sealed = seal_message(
            b'{"resourceType": "Task", "status": "requested"}',
            message_id="msg-42",
            content_type="application/fhir+json",
            signing_key=hub,
            receiver_key=receiver,
        )
        message_id, payload = _example()(
            sealed, receiver.as_dict(private=True), {"keys": [hub.as_dict(private=False)]}
        )
        assert message_id == "msg-42"
        assert payload == {"resourceType": "Task", "status": "requested"}
