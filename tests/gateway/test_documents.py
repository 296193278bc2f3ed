"""Documents: encrypted at rest under the client's key, size and type checked against the
bytes, readable by the uploading organisation only (until the workflow adds rules),
every action audited without content, and unreadable once the client is erased."""

from __future__ import annotations

import io
import uuid
import zipfile
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from consent import erasure
from consent.errors import ClientErased
from consent.models import Client, ErasureBasis
from gateway.documents import access, content_types, service
from gateway.documents.errors import DocumentInvalid, DocumentNotFound
from gateway.documents.models import Document
from kernel.audit import AuditRecord
from kernel.caller import Role
from kernel.settings import reset_settings_cache
from tests.consent.factories import make_client, staff
from tests.gateway.staff import Account, MakeAccount, StaffClient

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n% Secret Intake Notes\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32


def _zip(entries: list[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in entries:
            method = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=method)
    return out.getvalue()


DOCX = _zip([("[Content_Types].xml", b"<Types/>"), ("word/document.xml", b"<w:document/>")])
ODT = _zip([("mimetype", b"application/vnd.oasis.opendocument.text"), ("content.xml", b"<x/>")])
XLSX = _zip([("[Content_Types].xml", b"<Types/>"), ("xl/workbook.xml", b"<workbook/>")])


@pytest.fixture
def uploader(make_account: MakeAccount) -> Account:
    return make_account(roles=(Role.CASE_WORKER,))


@pytest.fixture
def person(db: Session, uploader: Account) -> Client:
    return make_client(db, staff(uploader.org.id), name="Document Person Kv")


def _upload(
    http: StaffClient,
    client_id: uuid.UUID,
    data: bytes,
    content_type: str,
    title: str = "Intake form",
    **fields: str,
) -> dict[str, object]:
    response = http.post(
        "/documents",
        data={"client_id": str(client_id), "title": title, **fields},
        files={"file": ("upload.bin", data, content_type)},
    )
    return {"status": response.status_code, "body": response.json()}


def test_round_trip_encrypted_at_rest_and_audited(
    db: Session,
    uploader: Account,
    person: Client,
    staff_client: Callable[[Account], StaffClient],
) -> None:
    http = staff_client(uploader)
    sent = _upload(http, person.id, PDF, "application/pdf", title="Asylum interview Kv")
    assert sent["status"] == 201, sent
    body = sent["body"]
    assert isinstance(body, dict)
    doc_id = body["id"]
    assert body["title"] == "Asylum interview Kv" and body["size"] == len(PDF)
    assert body["content_type"] == "application/pdf" and body["organisation_id"] == str(
        uploader.org.id
    )

    meta = http.get(f"/documents/{doc_id}")
    assert meta.status_code == 200 and meta.json()["title"] == "Asylum interview Kv"
    content = http.get(f"/documents/{doc_id}/content")
    assert content.status_code == 200 and content.content == PDF
    assert content.headers["content-type"] == "application/pdf"
    assert content.headers["x-content-type-options"] == "nosniff"
    assert content.headers["content-disposition"].startswith("attachment")

    raw = db.execute(
        select(Document.ciphertext, Document.title_ciphertext).where(
            Document.id == uuid.UUID(str(doc_id))
        )
    ).one()
    assert b"Secret Intake" not in bytes(raw[0]) and b"%PDF" not in bytes(raw[0])
    assert b"Asylum" not in bytes(raw[1])

    rows = db.scalars(
        select(AuditRecord).where(AuditRecord.subject == f"Patient/{person.id}")
    ).all()
    actions = [r.action for r in rows if r.action.startswith("document.")]
    assert actions == ["document.store", "document.view", "document.read"]
    assert all("Asylum" not in str(r.detail) and "Secret" not in str(r.detail) for r in rows)


@pytest.mark.parametrize(
    ("data", "declared"),
    [
        (PNG, "image/png"),
        (JPEG, "image/jpeg"),
        ("Plain notes: ça va, مرحبا".encode(), "text/plain; charset=utf-8"),
        (DOCX, content_types.DOCX),
        (ODT, content_types.ODT),
    ],
)
def test_each_allowed_type_is_accepted(
    uploader: Account,
    person: Client,
    staff_client: Callable[[Account], StaffClient],
    data: bytes,
    declared: str,
) -> None:
    assert _upload(staff_client(uploader), person.id, data, declared)["status"] == 201


@pytest.mark.parametrize(
    ("data", "declared", "code"),
    [
        (b"MZ\x90\x00 executable", "application/x-msdownload", "unsupported-content-type"),
        (b"<html><script>alert(1)</script>", "text/html", "unsupported-content-type"),
        (PNG, "application/pdf", "content-type-mismatch"),
        (PDF, "image/png", "content-type-mismatch"),
        (PNG, "text/plain", "content-type-mismatch"),
        (b"\xff\xfe not utf-8 \x00", "text/plain", "content-type-mismatch"),
        (XLSX, content_types.DOCX, "content-type-mismatch"),
        (b"PK\x03\x04 broken zip", content_types.ODT, "content-type-mismatch"),
    ],
)
def test_unsupported_or_mismatched_types_are_refused_415(
    db: Session,
    uploader: Account,
    person: Client,
    staff_client: Callable[[Account], StaffClient],
    data: bytes,
    declared: str,
    code: str,
) -> None:
    sent = _upload(staff_client(uploader), person.id, data, declared)
    assert sent["status"] == 415
    body = sent["body"]
    assert isinstance(body, dict) and body["code"] == code
    assert db.scalars(select(Document).where(Document.client_id == person.id)).all() == []
    refused = db.scalars(
        select(AuditRecord).where(
            AuditRecord.subject == f"Patient/{person.id}", AuditRecord.action == "document.store"
        )
    ).all()
    assert [r.outcome for r in refused] == ["denied"]


@pytest.fixture
def small_limit(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    monkeypatch.setenv("REFHUB_DOCUMENT_MAX_BYTES", "2048")
    reset_settings_cache()
    yield 2048
    monkeypatch.undo()
    reset_settings_cache()


def test_too_large_is_refused_413(
    uploader: Account,
    person: Client,
    staff_client: Callable[[Account], StaffClient],
    small_limit: int,
) -> None:
    http = staff_client(uploader)
    assert (
        _upload(http, person.id, PDF + b"x" * (small_limit - len(PDF)), "application/pdf")["status"]
        == 201
    )
    sent = _upload(http, person.id, PDF + b"x" * small_limit, "application/pdf")
    assert sent["status"] == 413
    body = sent["body"]
    assert isinstance(body, dict) and body["code"] == "document-too-large"
    assert body["type"] == "urn:refhub:problem:document-too-large"


def test_another_organisation_can_neither_read_nor_upload(
    db: Session,
    uploader: Account,
    person: Client,
    make_account: MakeAccount,
    staff_client: Callable[[Account], StaffClient],
) -> None:
    sent = _upload(staff_client(uploader), person.id, PDF, "application/pdf")
    body = sent["body"]
    assert isinstance(body, dict)
    doc_id = body["id"]
    other = staff_client(make_account(roles=(Role.ORG_ADMIN,)))
    assert other.get(f"/documents/{doc_id}").status_code == 404
    assert other.get(f"/documents/{doc_id}/content").status_code == 404
    assert other.get(f"/documents/{uuid.uuid4()}").status_code == 404
    assert _upload(other, person.id, PDF, "application/pdf")["status"] == 404
    hub_admin = staff_client(make_account(roles=(Role.HUB_ADMIN,)))
    assert hub_admin.get(f"/documents/{doc_id}/content").status_code == 404


def test_read_rules_and_referral_checks_are_injectable(
    db: Session, uploader: Account, person: Client
) -> None:
    owner = staff(uploader.org.id)
    receiver = staff(uuid.uuid4())
    with pytest.raises(DocumentInvalid, match="referrals"):  # none registered: refused
        service.store(
            db,
            owner,
            client_id=person.id,
            referral_id=uuid.uuid4(),
            title="Referral letter",
            content_type="application/pdf",
            data=PDF,
            access=access.DocumentAccess(),
        )
    with pytest.raises(DocumentInvalid, match="referral"):  # the workflow's check: not ours
        service.store(
            db,
            owner,
            client_id=person.id,
            referral_id=uuid.uuid4(),
            title="Referral letter",
            content_type="application/pdf",
            data=PDF,
        )
    referral = uuid.uuid4()
    rules = access.DocumentAccess()
    rules.referral_checks.append(lambda s, c, ref, client: None)
    rules.read_rules.append(
        lambda s, c, d: d.referral_id == referral and c.organisation_id == receiver.organisation_id
    )
    doc = service.store(
        db,
        owner,
        client_id=person.id,
        referral_id=referral,
        title="Referral letter",
        content_type="application/pdf",
        data=PDF,
        access=rules,
    )
    _, data = service.open_document(db, receiver, document_id=doc.id, access=rules)
    assert data == PDF
    with pytest.raises(DocumentNotFound):
        service.open_document(db, receiver, document_id=doc.id)  # the hub's default rules


def test_after_erasure_the_row_stays_but_nothing_opens(
    db: Session,
    uploader: Account,
    person: Client,
    staff_client: Callable[[Account], StaffClient],
) -> None:
    http = staff_client(uploader)
    body = _upload(http, person.id, PDF, "application/pdf")["body"]
    assert isinstance(body, dict)
    doc_id = uuid.UUID(str(body["id"]))
    erasure.erase_client(
        db,
        actor="user:admin",
        organisation_id=None,
        client_id=person.id,
        basis=ErasureBasis.COURT_ORDER,
        reason="Court order 2026/17 to erase",
    )
    db.commit()  # as the erasing request would; an error response below rolls back
    db.expire_all()
    row = db.get(Document, doc_id)
    assert row is not None and len(row.ciphertext) > len(PDF)  # still stored, sealed
    for path in (f"/documents/{doc_id}", f"/documents/{doc_id}/content"):
        answer = http.get(path)
        assert answer.status_code == 410 and answer.json()["code"] == "client-erased"
    assert _upload(http, person.id, PDF, "application/pdf")["status"] == 410
    with pytest.raises(ClientErased):
        service.read(db, doc_id)


def test_detection_is_by_content_not_by_name() -> None:
    assert content_types.detect(PDF) == content_types.PDF
    assert content_types.detect(DOCX) == content_types.DOCX
    assert content_types.detect(ODT) == content_types.ODT
    assert content_types.detect(XLSX) is None
    assert content_types.detect(b"hello") == content_types.TEXT
    assert content_types.normalise(" Text/Plain ; charset=UTF-8") == "text/plain"
