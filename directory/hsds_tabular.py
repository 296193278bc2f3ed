"""The HSDS 3.0 tabular form (a folder of CSV files and datapackage.json) <-> nested documents.

Reading joins the tables into nested documents by the links `hsds_tables.RELATIONS` names
(a row is nested under every object it links to: a phone of a service and of its contact
appears in both), so the importer reads one shape; writing flattens nested documents back,
merging a row met twice into one. What reading cannot place (a row linked to nothing in
the package) comes back as a `skipped` entry the import report lists. Table and column
names and types follow the published HSDS 3.0 datapackage, which an export writes as its
descriptor (with refhub's extension resource in a members' export).
"""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from directory.hsds_tables import (
    EXTENSION_FILE,
    NUMBERS,
    RELATIONS,
    TABLES,
    TIMES,
    datapackage,
)

__all__ = ["NUMBERS", "SKIPPED", "TABLES", "read_tabular", "write_tabular"]

#: Key of the entry `read_tabular` returns for a row it could not place.
SKIPPED = "_skipped"
_DEPTH = 8
_HHMM = re.compile(r"^\d\d:\d\d$")

Row = dict[str, Any]


# Reading ------------------------------------------------------------------------------------


def _number(value: str) -> int | float | str:
    """A `number` cell as a number; an unreadable one is left as text for the importer to
    reject with the column's name."""
    try:
        number = float(value)
    except ValueError:
        return value
    return int(number) if number.is_integer() and "." not in value else number


def _rows(file: Path, name: str, notes: list[str] | None = None) -> list[Row]:
    """The rows of one CSV file (numbers typed); `notes` gains a line per column that is
    not in the table's HSDS 3.0 schema."""
    rows: list[Row] = []
    try:
        with file.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            known = TABLES[name][1] if name in TABLES else ()
            unknown = [c for c in reader.fieldnames or [] if c not in known]
            if notes is not None:
                notes += [
                    f"{file.name}: column {c!r} is not in the HSDS 3.0 datapackage: kept with "
                    "a service's document (JSON export), never written to the tabular form"
                    for c in unknown
                ]
            for raw in reader:
                row = {k: v for k, v in raw.items() if isinstance(k, str) and v not in ("", None)}
                for column in NUMBERS.get(name, ()):
                    if isinstance(row.get(column), str):
                        row[column] = _number(row[column])
                rows.append(row)
    except UnicodeDecodeError as exc:
        raise ValueError(f"{file} is not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    except csv.Error as exc:
        raise ValueError(f"{file} is not readable CSV: {exc}") from None
    return rows


def _load(folder: Path) -> dict[str, list[Row]]:
    paths = {name: path for name, (path, _) in TABLES.items()}
    descriptor = folder / "datapackage.json"
    if descriptor.exists():
        try:
            resources = json.loads(descriptor.read_text(encoding="utf-8")).get("resources", [])
        except (json.JSONDecodeError, UnicodeDecodeError, AttributeError) as exc:
            raise ValueError(f"{descriptor} is not a datapackage descriptor: {exc}") from None
        for resource in resources if isinstance(resources, list) else []:
            if resource.get("name") in TABLES and isinstance(resource.get("path"), str):
                paths[resource["name"]] = resource["path"]
    notes: list[str] = []
    tables = {
        name: _rows(folder / path, name, notes) if (folder / path).exists() else []
        for name, path in paths.items()
    }
    extension = folder / EXTENSION_FILE
    tables["_extension"] = _rows(extension, "_extension") if extension.exists() else []
    known = {*paths.values(), EXTENSION_FILE}
    notes += [
        f"{file.name}: not a table of the HSDS 3.0 datapackage: not read"
        for file in sorted(folder.glob("*.csv"))
        if file.name not in known
    ]
    tables["_notes"] = [{SKIPPED: note} for note in notes]
    return tables


class _Reader:
    def __init__(self, tables: dict[str, list[Row]]) -> None:
        self.tables = tables
        self.index = {t: {r["id"]: r for r in rows if "id" in r} for t, rows in tables.items()}
        self.groups: dict[tuple[str, str], dict[Any, list[Row]]] = {}
        self.placed: set[tuple[str, str]] = set()

    def grouped(self, table: str, link: str) -> dict[Any, list[Row]]:
        key = (table, link)
        if key not in self.groups:
            out: dict[Any, list[Row]] = defaultdict(list)
            for row in self.tables[table]:
                if link in row:
                    out[row[link]].append(row)
            self.groups[key] = out
        return self.groups[key]

    def nest(self, table: str, row: Row, depth: int = 0) -> Row:
        """`row` with the rows linked to it nested (empty lists left out)."""
        self.placed.add((table, str(row.get("id"))))
        doc = dict(row)
        if depth >= _DEPTH:
            return doc
        for key, child, link, mode in RELATIONS.get(table, []):
            if mode == "one":
                target = self.index[child].get(row.get(link))
                if target is not None:
                    doc[key] = self.nest(child, target, depth + 1)
            elif "id" in row:
                items = self.grouped(child, link).get(row["id"], [])
                if items:
                    doc[key] = [self.nest(child, item, depth + 1) for item in items]
        return doc


def read_tabular(folder: Path) -> list[Row]:
    """Nested documents from an HSDS tabular folder: a service document per services.csv
    row, then an organization (with empty `services`), location, taxonomy_term or taxonomy
    document for each such row no service reached, then a `SKIPPED` entry for each other
    row nothing reached.

    Raises:
        FileNotFoundError: the folder has neither services.csv nor organizations.csv.
        ValueError: a file that cannot be read (naming it).
    """
    if not (folder / "services.csv").exists() and not (folder / "organizations.csv").exists():
        raise FileNotFoundError(f"{folder} has no services.csv or organizations.csv")
    t = _load(folder)
    reader = _Reader(t)
    extensions = {row.get("service_id"): row.get("extension") for row in t["_extension"]}
    docs: list[Row] = []
    for row in t["service"]:
        doc = reader.nest("service", row)
        extension = extensions.get(row.get("id"))
        if isinstance(extension, str):
            try:
                doc["refhub"] = json.loads(extension)
            except json.JSONDecodeError:
                raise ValueError(
                    f"{folder / EXTENSION_FILE}: service {row.get('id')}: extension is not JSON"
                ) from None
        docs.append(doc)
    for table in ("organization", "location", "taxonomy_term", "taxonomy"):
        for row in t[table]:
            if (table, str(row.get("id"))) not in reader.placed:
                doc = reader.nest(table, row)
                docs.append({**doc, "services": []} if table == "organization" else doc)
    for table, (path, _) in TABLES.items():
        for row in t[table]:
            if (table, str(row.get("id"))) not in reader.placed:
                docs.append(
                    {SKIPPED: f"{path}: row {row.get('id')} links to nothing here: not imported"}
                )
    return docs + t["_notes"]


# Writing ------------------------------------------------------------------------------------


class _Tables:
    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Row]] = {name: {} for name in TABLES}
        self.extensions: dict[str, Any] = {}

    def put(self, table: str, row: Row, **links: Any) -> None:
        """Add a row; a row met again (a phone of both a service and its contact) gains
        the links and values it lacked."""
        merged = {**row, **{k: v for k, v in links.items() if v is not None}}
        key = str(merged.get("id") or len(self.rows[table]))
        found = self.rows[table].setdefault(key, merged)
        for column, value in merged.items():
            if found.get(column) in (None, ""):
                found[column] = value

    def walk(self, table: str, obj: Row, **links: Any) -> None:
        """Put `obj` (and what it nests, by `RELATIONS`) into the tables."""
        self.put(table, {k: v for k, v in obj.items() if not isinstance(v, dict | list)}, **links)
        for key, child, link, mode in RELATIONS.get(table, []):
            value = obj.get(key)
            if mode == "one" and isinstance(value, dict):
                self.walk(child, value)
                if obj.get(link) in (None, "") and "id" in obj:
                    self.put(table, {"id": obj["id"]}, **{link: value.get("id")})
            elif mode == "many" and isinstance(value, list):
                for item in value:
                    if not isinstance(item, dict):
                        continue
                    if child == "attribute":
                        item = {"link_entity": table, **item}
                    elif child == "metadata":
                        item = {"resource_type": table, **item}
                    self.walk(child, item, **{link: obj.get("id")})


def _cell(value: Any, time: bool = False) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    text = str(value)
    return text + ":00" if time and _HHMM.match(text) else text


def write_tabular(
    folder: Path,
    services: Iterable[Row],
    terms: Iterable[Row] = (),
    taxonomies: Iterable[Row] = (),
) -> dict[str, int]:
    """Write nested service documents as HSDS tables (every table, empty ones with their
    header), refhub's extension of each service that carries it, and datapackage.json
    into `folder`; `terms` (taxonomy_term documents with their `taxonomy_detail`) and
    `taxonomies` add the vocabulary no service uses. Returns the row count per table."""
    out = _Tables()
    for doc in services:
        out.walk("service", doc)
        if isinstance(doc.get("refhub"), dict):
            out.extensions[str(doc["id"])] = doc["refhub"]
    for term in terms:
        out.walk("taxonomy_term", term)
    for taxonomy in taxonomies:
        out.walk("taxonomy", taxonomy)
    folder.mkdir(parents=True, exist_ok=True)
    for name, (path, columns) in TABLES.items():
        times = TIMES.get(name, set())
        with (folder / path).open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(columns)
            for row in out.rows[name].values():
                writer.writerow([_cell(row.get(c), c in times) for c in columns])
    extension = folder / EXTENSION_FILE
    if out.extensions:
        with extension.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(("service_id", "extension"))
            for sid, ext in out.extensions.items():
                writer.writerow((sid, _cell(ext)))
    elif extension.exists():
        extension.unlink()
    descriptor = datapackage(extension=bool(out.extensions))
    (folder / "datapackage.json").write_text(json.dumps(descriptor, indent=2), encoding="utf-8")
    return {name: len(rows) for name, rows in out.rows.items()}
