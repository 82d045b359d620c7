"""The contract kit must fail connectors that break the contract, and only on the broken part.

Each broken connector below is a FakeConnector with one defect. The kit is run on it
in a nested pytest session (pytester), and the exact set of failing kit tests is checked.
"""

from __future__ import annotations

import pytest

# Imported here so pytester's sys.modules snapshot keeps one copy of each model class.
import connectkit.testing.contract
import connectkit.testing.fake  # noqa: F401
from connectkit.testing.fake import BAD_TOKEN

pytest_plugins = ["pytester"]
# Nested runs skip plugins they do not need (hypothesis alone costs seconds per run).
QUIET = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:anyio", "-p", "no:xdist")

BROKEN = '''
from __future__ import annotations

import itertools
from dataclasses import replace

import pytest

from connectkit.errors import InvalidCredentialsError
from connectkit.hookspecs import hookimpl
from connectkit.models import Capabilities, MISPerson, PeoplePage, Role
from connectkit.secrets import Secret
from connectkit.testing import factories
from connectkit.testing.contract import ConnectorContract
from connectkit.testing.fake import ALL_CAPABILITIES, BAD_TOKEN, FakeConnector

TOKEN = "good-token-for-broken-tests"


def seed(fake):
    fake.add_groups(factories.school_groups())
    fake.add_people(Role.STUDENT, factories.make_people(Role.STUDENT, 9))
    fake.add_people(Role.STAFF, factories.make_people(Role.STAFF, 5))
    return fake


class DuplicateIds(FakeConnector):
    """Page two repeats a student of page one."""

    @hookimpl
    def connectkit_fetch_people(self, ctx, role, since, cursor):
        pages = list(super().connectkit_fetch_people(ctx, role, since, cursor))
        if role == Role.STUDENT and cursor is None and len(pages) > 1:
            twice = pages[1].people + (pages[0].people[0],)
            pages[1] = PeoplePage(people=twice, cursor=pages[1].cursor)
        return iter(pages)


class EndlessPager(FakeConnector):
    """Every page points at a next page, forever."""

    @hookimpl
    def connectkit_fetch_people(self, ctx, role, since, cursor):
        start = int(cursor or 0)

        def pages():
            for n in itertools.count(start):
                person = factories.make_person(role, n)
                yield PeoplePage(people=(person,), cursor=str(n + 1))

        return pages()


class LeakyErrors(FakeConnector):
    """Raises the right error type, but chains a cause that quotes the token."""

    @hookimpl
    def connectkit_check_credentials(self, ctx):
        token = ctx.config["token"].reveal()
        if token == BAD_TOKEN:
            try:
                raise RuntimeError(f"HTTP 401 for Authorization: {token}")
            except RuntimeError as exc:
                raise InvalidCredentialsError("the MIS refused the credentials") from exc
        return super().connectkit_check_credentials(ctx)


class WrongErrorType(FakeConnector):
    """Bad credentials surface as a bare exception instead of InvalidCredentialsError."""

    @hookimpl
    def connectkit_check_credentials(self, ctx):
        if ctx.config["token"].reveal() == BAD_TOKEN:
            raise PermissionError("401")
        return super().connectkit_check_credentials(ctx)


class ForgetfulCursor(FakeConnector):
    """Ignores the cursor: a resumed pass starts again from the top."""

    @hookimpl
    def connectkit_fetch_people(self, ctx, role, since, cursor):
        return super().connectkit_fetch_people(ctx, role, since, None)


class IgnoresVouching(FakeConnector):
    """Declares fingerprints but maps every record even when the engine vouches for it."""

    @hookimpl
    def connectkit_fetch_people(self, ctx, role, since, cursor):
        return super().connectkit_fetch_people(replace(ctx, vouch=None), role, since, cursor)


class UndeclaredPhotos(FakeConnector):
    """Serves photos without declaring the capability."""

    @hookimpl
    def connectkit_fetch_photos(self, ctx, known_hashes):
        return iter(())


class Config:
    @pytest.fixture
    def contract_config(self):
        return {"school": "s1", "token": Secret(TOKEN)}

    @pytest.fixture
    def bad_credentials_config(self):
        return {"school": "s1", "token": BAD_TOKEN}


class TestDuplicateIds(Config, ConnectorContract):
    plugin = seed(DuplicateIds(page_size=4))


class TestEndlessPager(Config, ConnectorContract):
    plugin = seed(EndlessPager(page_size=4))
    max_pages = 60


class TestLeakyErrors(Config, ConnectorContract):
    plugin = seed(LeakyErrors(page_size=4))


class TestWrongErrorType(Config, ConnectorContract):
    plugin = seed(WrongErrorType(page_size=4))


class TestForgetfulCursor(Config, ConnectorContract):
    plugin = seed(ForgetfulCursor(page_size=4))


class TestIgnoresVouching(Config, ConnectorContract):
    plugin = seed(IgnoresVouching(page_size=4))


class TestUndeclaredPhotos(Config, ConnectorContract):
    plugin = seed(UndeclaredPhotos(
        page_size=4, capabilities=ALL_CAPABILITIES.model_copy(update={"photos": False})
    ))
'''




@pytest.fixture
def kit_run(pytester: pytest.Pytester) -> dict[str, dict[str, str]]:
    """Run the kit on every broken connector: class -> failed test -> failure text."""
    pytester.makepyfile(test_broken=BROKEN)
    reprec = pytester.inline_run(*QUIET)
    failed: dict[str, dict[str, str]] = {}
    for report in reprec.getreports("pytest_runtest_logreport"):
        if report.failed:
            _, cls, test = report.nodeid.split("::")
            failed.setdefault(cls, {})[test] = report.longreprtext
    passed = [r for r in reprec.getreports("pytest_runtest_logreport") if r.passed]
    assert len(passed) > 60, "the kit's other checks must still run (and pass) on them"
    return failed


def test_kit_fails_each_broken_connector_exactly_where_it_breaks(
    kit_run: dict[str, dict[str, str]],
) -> None:
    people = "test_people_pages_are_valid_with_unique_ids"
    resume = "test_pagination_ends_and_resumes"
    since = "test_changed_since_is_a_subset"
    prints = "test_fingerprints_are_stable_and_vouched_records_left_out"
    both = ("student", "staff")
    assert {cls: set(tests) for cls, tests in kit_run.items()} == {
        # a broken pass also breaks the fingerprint check, which reads whole passes
        "TestDuplicateIds": {f"{people}[student]", f"{prints}[student]"},
        "TestEndlessPager": {
            f"{check}[{role}]" for check in (people, resume, since, prints) for role in both
        },
        "TestIgnoresVouching": {f"{prints}[{role}]" for role in both},
        "TestLeakyErrors": {"test_bad_credentials_fail_cleanly"},
        "TestWrongErrorType": {"test_bad_credentials_fail_cleanly"},
        "TestForgetfulCursor": {f"{resume}[student]", f"{resume}[staff]"},
        "TestUndeclaredPhotos": {"test_undeclared_fetch_hooks_are_flagged"},
    }
    # ... and each failure names the defect (never the secret itself)
    assert "appeared earlier in the pass" in kit_run["TestDuplicateIds"][
        "test_people_pages_are_valid_with_unique_ids[student]"
    ]
    assert "did not end within 60 pages" in kit_run["TestEndlessPager"][
        "test_pagination_ends_and_resumes[staff]"
    ]
    leak = kit_run["TestLeakyErrors"]["test_bad_credentials_fail_cleanly"]
    assert "InvalidCredentialsError shows secret(s)" in leak
    for tests in kit_run.values():
        for text in tests.values():
            assert BAD_TOKEN not in text
            assert "good-token-for-broken-tests" not in text
    assert "expected one of InvalidCredentialsError" in kit_run["TestWrongErrorType"][
        "test_bad_credentials_fail_cleanly"
    ]
    assert "although the engine vouched for them" in kit_run["TestIgnoresVouching"][
        f"{prints}[staff]"
    ]
    assert "resuming student after page" in kit_run["TestForgetfulCursor"][
        "test_pagination_ends_and_resumes[student]"
    ]
    assert "connectkit_fetch_photos (capability photos" in kit_run["TestUndeclaredPhotos"][
        "test_undeclared_fetch_hooks_are_flagged"
    ]
