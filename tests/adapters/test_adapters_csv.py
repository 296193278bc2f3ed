"""The CSV format: encodings, delimiters, dates, per-case failures, unknown columns."""

from __future__ import annotations

import codecs

import pytest

from adapters import EncodingRefused, MalformedInput, convert, read, read_packet
from adapters.csv.layout import COLUMN_NAMES, template

HEADER = "case_id,role,given_name,birth_date,gender,relationship,priority,referral_date,"
HEADER += "referred_by,referred_to,services_requested"
CLIENT = "C1,client,Amina,2019-03-04,female,,72h,2026-11-20,Agency A,Agency B,education"


def _read(text: str | bytes):  # type: ignore[no-untyped-def]
    return read(text, "csv")


def _summary(result, index: int = 0):  # type: ignore[no-untyped-def]
    packet = result.cases[index].packet
    assert packet is not None, result.cases[index].errors
    return read_packet(packet)[0]


def test_template_file_is_the_layout_header() -> None:
    from importlib import resources

    shipped = resources.files("adapters.csv").joinpath("template.csv").read_bytes().decode()
    assert shipped == template()
    assert shipped.strip().split(",") == list(COLUMN_NAMES)
    assert _read(shipped).cases == ()


def test_family_rows_grouped_by_case() -> None:
    text = "\n".join(
        [HEADER, CLIENT, "C1,member,Yusuf,1990,male,father,,,,,", "C1,member,Mona,,,mother,,,,,"]
    )
    result = _read(text)
    assert len(result.cases) == 1
    summary = _summary(result)
    assert [m.relationship for m in summary.family] == ["father", "mother"]
    assert summary.family[0].birth_date == "1990"


@pytest.mark.parametrize(
    "encode",
    [
        lambda t: codecs.BOM_UTF8 + t.encode("utf-8"),
        lambda t: t.encode("utf-16"),  # Excel "Unicode text": BOM + UTF-16LE
        lambda t: t.replace(",", ";").encode("utf-8"),
        lambda t: codecs.BOM_UTF8 + t.replace(",", "\t").encode("utf-8"),
    ],
    ids=["utf8-bom", "utf16-bom", "semicolons", "tabs"],
)
def test_bom_and_delimiters_are_handled(encode) -> None:  # type: ignore[no-untyped-def]
    text = f"{HEADER}\n{CLIENT.replace('Amina', 'Âmina')}\n"
    summary = _summary(_read(encode(text)))
    assert summary.client.name is not None
    assert summary.client.name.given == "Âmina"
    assert summary.case_id == "C1"


def test_non_utf8_is_refused_naming_the_line() -> None:
    data = f"{HEADER}\n{CLIENT.replace('Amina', 'Amína')}\n".encode("cp1252")
    with pytest.raises(EncodingRefused) as err:
        _read(data)
    assert err.value.location.startswith("line 2")
    assert "UTF-8" in err.value.expected


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("04/03/2019", "2019-03-04"), ("04.03.2019", "2019-03-04"), ("43528", "2019-03-04")],
)
def test_excel_date_formats_are_read(cell: str, expected: str) -> None:
    summary = _summary(_read(f"{HEADER}\n{CLIENT.replace('2019-03-04', cell)}"))
    assert summary.client.birth_date == expected


def test_month_first_date_is_refused_with_row_and_column() -> None:
    result = _read(f"{HEADER}\n{CLIENT.replace('2019-03-04', '03/24/2019')}")
    [error] = result.cases[0].errors
    assert error.location == "row 2, column birth_date"
    assert "day first" in error.message
    assert "YYYY-MM-DD" in error.expected


def test_one_bad_person_fails_only_that_case() -> None:
    text = "\n".join(
        [
            HEADER,
            CLIENT,
            "C1,member,Yusuf,31/02/1990,robot,uncle-ish,,,,,",
            CLIENT.replace("C1", "C2"),
        ]
    )
    result = convert(text, "csv", "summary")
    first, second = result.cases
    assert not first.ok and second.ok
    locations = {e.location for e in first.errors}
    assert "row 3, column birth_date" in locations
    assert "row 3, column relationship" in locations
    assert "row 3, column gender" in locations
    assert [o.case for o in result.outputs] == ["C2"]


def test_unknown_columns_are_reported_not_dropped_silently() -> None:
    result = _read(f"{HEADER},favourite_colour\n{CLIENT},blue")
    assert result.cases[0].ok
    [warning] = result.warnings
    assert warning.code == "unknown-column"
    assert "favourite_colour" in warning.location


def test_missing_header_is_malformed() -> None:
    with pytest.raises(MalformedInput) as err:
        _read("name,age\nAmina,7\n")
    assert "case_id" in err.value.expected


def test_duplicate_column_is_malformed() -> None:
    with pytest.raises(MalformedInput, match="twice"):
        _read(f"{HEADER},gender\n{CLIENT},female")


@pytest.mark.parametrize(
    ("rows", "location", "text"),
    [
        ([CLIENT, CLIENT], "row 3, column role", "exactly one client row"),
        (["C1,member,Yusuf,1990,male,father,,,,,"], "row 2, column role", "exactly one"),
        ([CLIENT.replace(",client,", ",boss,")], "row 2, column role", "client or member"),
        (
            [CLIENT, "C1,member,Yusuf,1990,male,father,24h,,,,"],
            "row 3, column priority",
            "client row only",
        ),
        (
            [CLIENT.replace(",female,,", ",female,mother,")],
            "row 2, column relationship",
            "empty on this row",
        ),
        ([CLIENT + ",extra"], "row 2, column (extra)", "no more cells"),
        ([CLIENT.replace(",72h,", ",soon,")], "row 2, column priority", "24h"),
        ([CLIENT.replace(",72h,", ",,")], "row 2, column priority", "a value"),
    ],
)
def test_case_errors_name_row_column_and_expectation(
    rows: list[str], location: str, text: str
) -> None:
    result = _read("\n".join([HEADER, *rows]))
    [case] = result.cases
    assert not case.ok
    assert any(e.location == location and text in e.expected for e in case.errors), [
        (e.location, e.expected) for e in case.errors
    ]


def test_formula_like_cells_are_escaped_and_read_back() -> None:
    text = f'{HEADER},summary\n{CLIENT},=HYPERLINK("x")'
    out = convert(text, "csv", "csv").outputs[0].content
    assert "'=HYPERLINK" in out
    assert _summary(_read(out)).summary == '=HYPERLINK("x")'
