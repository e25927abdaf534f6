from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from governance.models import Membership, Role, SequenceCounter, User
from mediation.models import MediationOrganisation, OrganisationMember

HEADER = "username,full_name,role,area_code,department,mediation_organisation\n"


def write(tmp_path, body: str, header: str = HEADER, encoding: str = "utf-8"):
    path = tmp_path / "users.csv"
    path.write_bytes((header + body).encode(encoding))
    return path


ACTOR = "import_admin"


@pytest.fixture(autouse=True)
def actor(db):
    """The administrator a --commit is written in the name of (``--actor``)."""
    return User.objects.create_superuser(ACTOR, password=None)


def _args(args) -> tuple:
    return (*args, "--actor", ACTOR) if "--commit" in args and "--actor" not in args else args


def run(path, *args):
    out, err = StringIO(), StringIO()
    call_command("import_users", str(path), *_args(args), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def refused(path, *args) -> str:
    err = StringIO()
    with pytest.raises(CommandError, match="nothing was written"):
        call_command("import_users", str(path), *_args(args), stdout=StringIO(), stderr=err)
    return err.getvalue()


def test_each_role_given_is_audited_in_the_name_of_the_actor(cast, street_centre, tmp_path, actor):
    from governance.models import AuditEntry

    run(write(tmp_path, GOOD), "--commit")
    entries = AuditEntry.objects.filter(action="membership.add")
    assert entries.count() == 4 and {e.actor_id for e in entries} == {actor.pk}
    given = Membership.objects.get(user__username="h_li")
    assert entries.get(object_id=str(given.pk)).after == {
        "user": "h_li",
        "role": "handler",
        "area": "340102001000",
        "department": str(given.department),
        "is_head": False,
    }


def test_a_commit_names_an_active_administrator_or_writes_nothing(cast, street_centre, tmp_path):
    path = write(tmp_path, GOOD)
    users = User.objects.count()
    with pytest.raises(CommandError, match="--commit needs --actor"):
        call_command("import_users", str(path), "--commit", stdout=StringIO(), stderr=StringIO())
    for who in (cast.analyst.username, "nobody"):
        with pytest.raises(CommandError, match=f"--actor {who}: no active superuser or administrator"):
            call_command(
                "import_users", str(path), "--commit", "--actor", who, stdout=StringIO(), stderr=StringIO()
            )
    assert User.objects.count() == users


@pytest.fixture
def street_centre(cast):
    return MediationOrganisation.objects.create(
        name="甲一街道调解中心", kind="street_centre", area=cast.street_a1
    )


GOOD = (
    "gw_zhang,张伟,grid_worker,340102001001001,,\n"
    "gw_zhang,张伟,网格员,340102001001002,,\n"  # a second role by its Chinese label
    "h_li,李娜,handler,340102001000,城管中队,\n"
    "m_wang,王芳,调解员,340102001000,,甲一街道调解中心\n"
)


def test_a_dry_run_reports_what_would_be_added_and_writes_nothing(cast, street_centre, tmp_path):
    users, memberships = User.objects.count(), Membership.objects.count()
    out, err = run(write(tmp_path, GOOD))
    assert "3 new accounts, 4 roles and 1 organisation memberships would be added" in out
    assert "Dry run" in out and err == ""
    assert (User.objects.count(), Membership.objects.count()) == (users, memberships)


def test_commit_creates_accounts_without_a_usable_password_and_their_roles(cast, street_centre, tmp_path):
    before = SequenceCounter.current("memberships")
    path = write(tmp_path, GOOD, encoding="utf-8-sig")  # Excel's "CSV UTF-8" starts with a BOM
    out, _ = run(path, "--commit")
    assert "Added 3 new accounts, 4 roles and 1 organisation memberships" in out
    zhang = User.objects.get(username="gw_zhang")
    assert zhang.display_name == "张伟"
    assert not zhang.has_usable_password()
    assert sorted(zhang.memberships.values_list("area__code", flat=True)) == [
        "340102001001001",
        "340102001001002",
    ]
    li = Membership.objects.get(user__username="h_li")
    assert (li.role, li.department) == (Role.HANDLER, cast.street_team)
    assert OrganisationMember.objects.filter(user__username="m_wang", organisation=street_centre).exists()
    assert SequenceCounter.current("memberships") > before  # bulk_create sends no post_save


def test_no_password_is_written_to_the_output(cast, street_centre, tmp_path):
    out, err = run(write(tmp_path, GOOD), "--commit")
    assert "password" not in (out + err).lower().replace("temporary password", "")


def test_a_second_commit_adds_nothing(cast, street_centre, tmp_path):
    path = write(tmp_path, GOOD)
    run(path, "--commit")
    counts = (User.objects.count(), Membership.objects.count(), OrganisationMember.objects.count())
    out, _ = run(path, "--commit")
    assert "Added 0 new accounts, 0 roles and 0 organisation memberships" in out
    assert (User.objects.count(), Membership.objects.count(), OrganisationMember.objects.count()) == counts


def test_a_switched_off_account_is_named_once_when_it_is_given_roles(cast, tmp_path):
    User.objects.filter(pk=cast.street_handler.pk).update(is_active=False)
    body = "street_handler,,petition_officer,340102001000,,\nstreet_handler,,analyst,340102001000,,\n"
    out, _ = run(write(tmp_path, body), "--commit")
    assert out.count("street_handler is switched off") == 1
    assert "line 2: street_handler is switched off: its roles are added" in out
    assert cast.street_handler.memberships.count() == 3


def test_an_unknown_role_is_answered_with_the_codes_and_their_labels(cast, tmp_path):
    err = refused(write(tmp_path, "x1,某人,chief,340102001000,,\n"))
    assert "use one of grid_worker (grid worker), handler (handler)" in err


def test_an_existing_user_gets_only_the_missing_role_and_keeps_the_rest(cast, tmp_path):
    body = (
        "street_handler,改名,handler,340102001000,城管中队,\n"  # held without a department
        "street_handler,,petition_officer,340102001000,,\n"
    )
    out, _ = run(write(tmp_path, body), "--commit")
    assert "line 2: street_handler already holds this role: kept as it is" in out
    assert "line 2: street_handler exists: the name is kept as it is" in out
    assert "Added 0 new accounts, 1 roles" in out
    cast.street_handler.refresh_from_db()
    assert cast.street_handler.display_name == "street_handler"
    assert cast.street_handler.has_usable_password()
    held = dict(cast.street_handler.memberships.values_list("role", "department"))
    assert held == {Role.HANDLER: None, Role.PETITION_OFFICER: None}


@pytest.mark.parametrize(
    "row, message",
    [
        (",某人,handler,340102001000,,", "username is missing"),
        ("bad name!,某人,handler,340102001000,,", "username: "),
        ("x1,某人,,340102001000,,", "role is missing"),
        ("x1,某人,chief,340102001000,,", "role chief is not known"),
        ("x1,某人,handler,,,", "area code is missing"),
        ("x1,某人,handler,340199000000,,", "area 340199000000 does not exist"),
        ("x1,某人,grid_worker,340102001001,,", "A grid worker works in a grid: choose a grid."),
        (
            "x1,某人,handler,340102001001001,,",
            "A handler works at a community, street, district or city centre",
        ),
        (
            "x1,某人,handler,340102001000,无此部门,",
            "department 无此部门 does not exist at this area or above",
        ),
        # 公安分局 is the district's: the admin keeps a role's department at its own area.
        ("x1,某人,handler,340102001000,公安分局,", "This department belongs to 甲区"),
        (
            "x1,某人,handler,340102001000,,甲一街道调解中心",
            "a mediation organisation is for a mediator's role only",
        ),
        ("x1,某人,mediator,340102001000,,无此组织", "mediation organisation 无此组织 does not exist"),
        (
            "x1,某人,mediator,340102001001,,甲一街道调解中心",
            "甲一街道调解中心 serves 甲一街道, outside the area of this role.",
        ),
        ("x1," + "名" * 101 + ",handler,340102001000,,", "full name is longer than 100 characters"),
    ],
)
def test_each_bad_row_is_reported_with_its_line_and_nothing_is_written(
    cast, street_centre, tmp_path, row, message
):
    users, memberships = User.objects.count(), Membership.objects.count()
    err = refused(write(tmp_path, GOOD + row + "\n"), "--commit")
    assert f"line 6: {message}" in err
    assert "line 2" not in err and "line 5:" not in err  # the good rows are not reported
    assert (User.objects.count(), Membership.objects.count()) == (users, memberships)
    assert not OrganisationMember.objects.filter(user__username="m_wang").exists()


def test_a_row_twice_and_two_names_for_one_user_are_reported(cast, tmp_path):
    body = "x1,甲,handler,340102001000,,\nx1,乙,analyst,340100000000,,\nx1,,handler,340102001000,,\n"
    err = refused(write(tmp_path, body))
    assert "line 3: full name 乙 differs from 甲 on an earlier line of this user" in err
    assert "line 4: the same role at the same area is on line 2 too" in err


def test_a_closed_organisation_and_a_deactivated_department_are_refused(cast, street_centre, tmp_path):
    MediationOrganisation.objects.filter(pk=street_centre.pk).update(is_active=False)
    cast.street_team.is_active = False
    cast.street_team.save()
    err = refused(write(tmp_path, GOOD))
    assert "line 4: department 城管中队 is deactivated" in err
    assert "line 5: 甲一街道调解中心 is closed." in err


def test_a_department_and_an_organisation_may_be_named_by_id(cast, street_centre, tmp_path):
    body = f"x1,某人,handler,340102001000,{cast.street_team.pk},\nx2,某人,mediator,340102001000,,{street_centre.pk}\n"
    run(write(tmp_path, body), "--commit")
    assert Membership.objects.get(user__username="x1").department == cast.street_team
    assert OrganisationMember.objects.filter(user__username="x2").exists()


def test_a_missing_or_unknown_column_is_named(cast, tmp_path):
    err = StringIO()
    with pytest.raises(CommandError, match="header"):
        call_command(
            "import_users", str(write(tmp_path, "", header="username,rank\n")), stdout=StringIO(), stderr=err
        )
    assert "line 1: column rank is not known" in err.getvalue()
    assert "line 1: column role is missing" in err.getvalue()


def test_chinese_column_names_are_accepted(cast, tmp_path):
    out, _ = run(
        write(tmp_path, "x1,某人,数据分析员,340100000000\n", header="用户名,姓名,角色,区域代码\n"), "--commit"
    )
    assert User.objects.get(username="x1").memberships.get().role == Role.ANALYST


def test_a_file_that_is_not_utf8_is_refused(cast, tmp_path):
    with pytest.raises(CommandError, match="UTF-8"):
        run(write(tmp_path, "x1,张伟,handler,340102001000,,\n", encoding="gb18030"))


def _rows(n: int) -> str:
    grids = ["340102001001001", "340102001001002", "340102001002001"]
    return "".join(
        f"u{i},人{i},grid_worker,{grids[i % 3]},,\n"
        f"u{i},,handler,340102001000,城管中队,\n"
        f"u{i},,mediator,340102001000,,甲一街道调解中心\n"
        for i in range(n)
    )


def test_the_queries_do_not_grow_with_the_rows(cast, street_centre, tmp_path):
    counts = []
    for n in (5, 50):
        Membership.objects.filter(user__username__startswith="u").delete()
        User.objects.filter(username__startswith="u").delete()
        path = write(tmp_path, _rows(n))
        with CaptureQueriesContext(connection) as dry:
            run(path)
        with CaptureQueriesContext(connection) as committed:
            run(path, "--commit")
        counts.append((len(dry), len(committed)))
        assert User.objects.filter(username__startswith="u").count() == n
    assert counts[0] == counts[1]


def test_an_existing_user_is_matched_whatever_the_case_of_the_username(cast, tmp_path):
    """ "Street_Handler" in the file is the account street_handler: its missing role is added, and no
    second account is made that differs from it only in case."""
    users = User.objects.count()
    out, _ = run(write(tmp_path, "Street_Handler,,petition_officer,340102001000,,\n"), "--commit")
    assert "Added 0 new accounts, 1 roles" in out
    assert User.objects.count() == users
    assert cast.street_handler.memberships.filter(role=Role.PETITION_OFFICER).exists()
    assert not User.objects.filter(username="Street_Handler").exists()


def test_two_spellings_of_one_username_in_the_file_are_a_row_error(cast, tmp_path):
    body = "Wang.Li,王丽,handler,340102001000,,\nwang.li,王丽,analyst,340100000000,,\n"
    users = User.objects.count()
    err = refused(write(tmp_path, body), "--commit")
    assert "line 3: username wang.li differs only in case from Wang.Li on line 2" in err
    assert "line 2:" not in err
    assert User.objects.count() == users


def test_of_two_legacy_accounts_differing_in_case_the_exact_one_is_taken_and_a_third_spelling_refused(
    cast, tmp_path
):
    # Made before the import matched regardless of case: the exact spelling still names one of them;
    # any other spelling could be either, and is refused rather than guessed.
    User.objects.create_user("wang.li", password=None)
    User.objects.create_user("Wang.Li", password=None)
    run(write(tmp_path, "Wang.Li,,analyst,340100000000,,\n"), "--commit")
    assert User.objects.get(username="Wang.Li").memberships.count() == 1
    assert User.objects.get(username="wang.li").memberships.count() == 0
    err = refused(write(tmp_path, "WANG.LI,,analyst,340100000000,,\n"))
    assert "line 2: username WANG.LI matches several accounts differing only in case: Wang.Li, wang.li" in err


def test_the_actor_is_named_regardless_of_case_as_the_rows_usernames_are(cast, tmp_path):
    """The rows' usernames and the login take a username in any case; --actor IMPORT_ADMIN was
    refused as "no administrator has that username" beside the account import_admin."""
    from governance.models import AuditEntry

    out, _ = run(
        write(tmp_path, "Street_Handler,,petition_officer,340102001000,,\n"),
        "--commit",
        "--actor",
        ACTOR.upper(),
    )
    assert "Added 0 new accounts, 1 roles" in out
    assert AuditEntry.objects.get(action="membership.add").actor.username == ACTOR
    # Still an administrator's, whatever the case: an analyst's name in capitals is refused.
    with pytest.raises(CommandError, match="--actor ANALYST: no active superuser or administrator"):
        call_command(
            "import_users", str(write(tmp_path, "x1,,analyst,340100000000,,\n")), "--commit", "--actor",
            "ANALYST", stdout=StringIO(), stderr=StringIO(),
        )  # fmt: skip
