"""The supervisor's console over HTTP: the dashboard's figures for a seeded set of
referrals (statuses, a late one, declines with reasons, assignees), every drill-down list
holding exactly the referrals its number counted, filters, the CSV download, reassigning,
a worker's open items, and the organisation and role boundaries."""

from __future__ import annotations

import csv
import html
import io
import re
import uuid
from collections.abc import Callable

from sqlalchemy.orm import Session

from gateway.workflow.models import Referral
from gateway.workflow.reports_router import CSV_COLUMNS
from kernel.caller import Role
from tests.gateway.staff import Account, MakeAccount, StaffClient
from tests.gateway.workflow import conftest as workflow_fixtures
from tests.gateway.workflow import test_reports
from tests.gateway.workflow.conftest import Network

agency = workflow_fixtures.agency
network = workflow_fixtures.network
seeded = test_reports.seeded
Seeded = test_reports.Seeded
SignedIn = Callable[[Account], StaffClient]
DRILL = re.compile(r'<a href="(/ui/team/referrals\?[^"]*)">(\d+)<')


def _team(
    network: Network, seeded: Seeded, make_account: MakeAccount, db: Session
) -> dict[str, Account]:
    """The sender's supervisor and two case workers: Nadia holds a (declined) and f (late),
    Omar holds e (accepted); h (an accepted handover) is nobody's yet."""
    made = {
        "boss": make_account(org=network.sender.org, roles=(Role.SUPERVISOR,)),
        "nadia": make_account(org=network.sender.org),
        "omar": make_account(org=network.sender.org),
    }
    made["nadia"].user.display_name = "Nadia Haddad"
    made["omar"].user.display_name = "Omar Said"
    for name, who in (("a", "nadia"), ("f", "nadia"), ("e", "omar")):
        referral = db.get(Referral, uuid.UUID(seeded.ids[name]))
        assert referral is not None
        referral.requester_assignee = made[who].user.id
    db.flush()
    return made


def _listed(page: str) -> tuple[int, set[str]]:
    """The count a list page states and the referral ids of its rows."""
    found = re.search(r"<p>(\d+) referrals?", page)
    assert found, page[:2000]
    return int(found.group(1)), set(re.findall(r'<tr id="row-([0-9a-f-]{36})"', page))


def test_dashboard_figures_and_every_drill_down_matches_its_number(
    network: Network,
    seeded: Seeded,
    make_account: MakeAccount,
    staff_client: SignedIn,
    db: Session,
) -> None:
    team = _team(network, seeded, make_account, db)
    boss = staff_client(team["boss"])
    page = boss.get("/ui/team?side=sent&period=90")
    assert page.status_code == 200, page.text
    text = page.text
    assert "Team dashboard" in text and 'role="img"' in text and "<title id=" in text
    links = {html.unescape(href): int(n) for href, n in DRILL.findall(text)}

    def number(**params: str) -> int:
        wanted = {f"{k}={v}" for k, v in params.items()}
        hits = [n for href, n in links.items() if wanted <= set(href.split("?", 1)[1].split("&"))]
        assert hits, (params, links)
        return hits[0]

    assert number(status="rejected") == 3 and number(status="accepted") == 2
    assert number(status="requested") == 1 and number(status="cancelled") == 1
    assert number(late="1", period="all") == 1  # f: 100 h without an answer
    assert number(reason="no-capacity", counterpart=str(network.receiver.id)) == 2
    assert number(reason="not-eligible", counterpart=str(network.second.id)) == 1
    assert number(worker=str(team["nadia"].user.id), waiting="1") == 1  # f (a is declined)
    assert number(worker=str(team["nadia"].user.id), late="1") == 1
    assert number(worker=str(team["omar"].user.id), waiting="1") == 1
    assert number(worker="none", waiting="1") == 1  # h
    assert "Nadia Haddad" in text and "Omar Said" in text

    # every number opens a list of exactly as many referrals (all on one page here)
    for href, n in links.items():
        got = boss.get(href)
        assert got.status_code == 200, (href, got.text[:500])
        count, rows = _listed(got.text)
        assert (count, len(rows)) == (n, n), href
    late = boss.get("/ui/team/referrals?side=sent&period=all&late=1").text
    assert _listed(late) == (1, {seeded.ids["f"]})


def test_filters_narrow_the_figures_and_bad_dates_reshow_the_form(
    network: Network,
    seeded: Seeded,
    make_account: MakeAccount,
    staff_client: SignedIn,
    db: Session,
) -> None:
    team = _team(network, seeded, make_account, db)
    boss = staff_client(team["boss"])

    def total(query: str) -> int:
        page = boss.get(f"/ui/team?{query}")
        assert page.status_code == 200, page.text
        found = re.search(r'<span class="tile__count">(\d+)</span> <span>in the period', page.text)
        assert found
        return int(found.group(1))

    assert total("side=sent") == 8
    assert total(f"side=sent&counterpart={network.second.id}") == 3
    assert total("side=sent&kind=handover") == 1
    assert total(f"side=sent&worker={team['nadia'].user.id}") == 2
    assert total("side=sent&worker=none") == 5
    assert total("side=sent&period=custom&since=2000-01-01&until=2000-12-31") == 0
    assert total("side=received") == 0  # the sender received nothing

    bad = boss.get("/ui/team?side=sent&period=custom&since=2026-13-45&until=yesterday")
    assert bad.status_code == 422
    assert 'class="error-summary"' in bad.text and 'href="#since"' in bad.text
    assert 'id="since-error"' in bad.text and 'id="until-error"' in bad.text
    assert 'value="2026-13-45"' in bad.text  # the input is kept
    backwards = boss.get("/ui/team?side=sent&period=custom&since=2026-03-02&until=2026-03-01")
    assert backwards.status_code == 422 and 'id="until-error"' in backwards.text

    receiver = staff_client(make_account(org=network.receiver.org, roles=(Role.SUPERVISOR,)))
    got = receiver.get("/ui/team?side=received")
    assert got.status_code == 200 and network.sender.org.name in got.text


def test_the_csv_download_is_the_reports_layout_with_the_filters(
    network: Network,
    seeded: Seeded,
    make_account: MakeAccount,
    staff_client: SignedIn,
    db: Session,
) -> None:
    boss = staff_client(_team(network, seeded, make_account, db)["boss"])
    page = boss.get("/ui/team?side=sent")
    href = re.search(r'href="(/ui/team/figures\.csv\?[^"]*)"', page.text)
    assert href
    got = boss.get(html.unescape(href.group(1)))
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    assert got.headers["content-disposition"].startswith('attachment; filename="refhub-team-sent-')
    rows = list(csv.DictReader(io.StringIO(got.text)))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [r["value"] for r in rows if r["metric"] == "total"] == ["8"]
    assert any(r["metric"] == "time_to_response_hours_by_period" for r in rows)

    narrowed = boss.get(f"/ui/team/figures.csv?side=sent&counterpart={network.second.id}")
    totals = [
        r["value"] for r in csv.DictReader(io.StringIO(narrowed.text)) if r["metric"] == "total"
    ]
    assert totals == ["3"]


def test_a_supervisor_reassigns_and_sees_a_workers_open_items(
    network: Network,
    seeded: Seeded,
    make_account: MakeAccount,
    staff_client: SignedIn,
    db: Session,
) -> None:
    team = _team(network, seeded, make_account, db)
    boss = staff_client(team["boss"])
    nadia, omar = team["nadia"].user, team["omar"].user
    mine = boss.get(f"/ui/team/workers/{nadia.id}")
    assert mine.status_code == 200 and "Open items of Nadia Haddad" in mine.text
    assert _listed_items(mine.text) == {seeded.ids["f"]}

    back = "/ui/team/referrals?side=sent&period=all&late=1"
    moved = boss.http.post(
        "/ui/team/assign",
        data={
            "csrf_token": boss.csrf,
            "referral_id": seeded.ids["f"],
            "assignee": str(omar.id),
            "next": back,
        },
        follow_redirects=False,
    )
    assert moved.status_code == 303 and moved.headers["location"].startswith(back)
    referral = db.get(Referral, uuid.UUID(seeded.ids["f"]))
    assert referral is not None
    db.refresh(referral)
    assert referral.requester_assignee == omar.id
    shown = boss.get(moved.headers["location"]).text
    assert "Reassigned." in shown and "Omar Said" in shown
    assert _listed_items(boss.get(f"/ui/team/workers/{nadia.id}").text) == set()
    assert seeded.ids["f"] in boss.get(f"/ui/team/workers/{omar.id}").text

    # someone of another organisation: neither a worker page nor an assignee
    stranger = make_account(org=network.receiver.org)
    assert boss.get(f"/ui/team/workers/{stranger.user.id}").status_code == 404
    assert boss.get(f"/ui/team/workers/{uuid.uuid4()}").status_code == 404
    refused = boss.http.post(
        "/ui/team/assign",
        data={
            "csrf_token": boss.csrf,
            "referral_id": seeded.ids["f"],
            "assignee": str(stranger.user.id),
        },
        follow_redirects=False,
    )
    assert refused.status_code == 404
    db.refresh(referral)
    assert referral.requester_assignee == omar.id


def _listed_items(page: str) -> set[str]:
    return set(re.findall(r'<tr id="row-([0-9a-f-]{36})"', page))


def test_only_supervisors_reach_the_console(
    network: Network, make_account: MakeAccount, staff_client: SignedIn
) -> None:
    worker = staff_client(make_account(org=network.sender.org))
    refused = worker.get("/ui/team")
    assert refused.status_code == 403 and "You cannot use this page" in refused.text
    admin = staff_client(make_account(org=network.sender.org, roles=(Role.ORG_ADMIN,)))
    assert admin.get("/ui/team/workers").status_code == 403
