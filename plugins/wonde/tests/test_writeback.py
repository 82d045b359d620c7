"""Write-back exactly once, against the emulator's ledger."""

from __future__ import annotations

from datetime import date

import pytest

from connectkit.errors import NotSupportedError, RetryLaterError
from connectkit.models import AttendanceMark, WriteBackKind, WriteBackState
from connectkit_wonde import WondeConnector
from connectkit_wonde.emulator import DEFAULT_SCHOOL
from connectkit_wonde.emulator.data import wonde_id

WONDE = WondeConnector()
DAY = date(2024, 6, 3)


def _marks(emulator, count: int, code: str = "/", session: str = "AM") -> list[AttendanceMark]:
    seed = emulator.schools[DEFAULT_SCHOOL].seed
    return [
        AttendanceMark(
            key=f"m{i}:{DAY}:{session}",
            student_mis_id=wonde_id("student", seed, i),
            date=DAY,
            session=session,
            code=code,
            comment="late bus" if i == 0 else None,
            minutes_late=5 if i == 0 else None,
        )
        for i in range(count)
    ]


def test_marks_are_posted_in_batches_and_never_twice(make_ctx, emulator) -> None:
    ctx = make_ctx(writeback_batch_size=4)
    marks = _marks(emulator, 10)
    receipts = WONDE.connectkit_write_back(ctx=ctx, marks=marks)
    assert [len(r.mark_keys) for r in receipts] == [4, 4, 2]
    assert all(r.state is WriteBackState.ACCEPTED and r.remote_id for r in receipts)
    assert (emulator.ledger.posts, len(emulator.ledger.marks)) == (3, 10)
    again = WONDE.connectkit_write_back(ctx=ctx, marks=marks)
    assert emulator.ledger.posts == 3
    assert sorted(k for r in again for k in r.mark_keys) == sorted(m.key for m in marks)
    status = WONDE.connectkit_write_back_status(ctx=ctx, receipt=receipts[0])
    assert status.state is WriteBackState.DONE
    assert emulator.ledger.duplicates == 0


def test_ambiguous_failure_is_checked_before_resending(make_ctx, emulator) -> None:
    ctx = make_ctx(writeback_batch_size=3)
    marks = _marks(emulator, 5)
    emulator.set_faults({"writeback_fail_after_record": 1})
    with pytest.raises(RetryLaterError):
        WONDE.connectkit_write_back(ctx=ctx, marks=marks)
    assert emulator.ledger.posts == 1  # the first batch landed although we saw a 502
    receipts = WONDE.connectkit_write_back(ctx=ctx, marks=marks)
    assert emulator.ledger.duplicates == 0
    assert emulator.ledger.posts == 2  # only the unsent batch was posted
    assert sorted(k for r in receipts for k in r.mark_keys) == sorted(m.key for m in marks)
    assert any("ambiguous" in (r.detail or "") for r in receipts)


def test_timeout_after_the_server_recorded_is_not_resent(make_ctx, emulator) -> None:
    ctx = make_ctx(timeout=0.3)
    marks = _marks(emulator, 2, session="PM")
    emulator.set_faults({"writeback_delay_ms": 800})
    with pytest.raises(RetryLaterError, match="timed out"):
        WONDE.connectkit_write_back(ctx=ctx, marks=marks)
    emulator.set_faults({"writeback_delay_ms": 0})
    receipts = WONDE.connectkit_write_back(ctx=ctx, marks=marks)
    assert (emulator.ledger.posts, emulator.ledger.duplicates) == (1, 0)
    assert all(r.state is WriteBackState.ACCEPTED for r in receipts)


def test_422_is_a_permanent_failure_with_its_body(make_ctx, emulator) -> None:
    bad = AttendanceMark(
        key="ghost", student_mis_id="A9999999999", date=DAY, session="AM", code="/"
    )
    [receipt] = WONDE.connectkit_write_back(ctx=make_ctx(), marks=[bad])
    assert receipt.state is WriteBackState.FAILED
    assert "422" in (receipt.detail or "")
    assert "A9999999999" in (receipt.detail or "")
    assert emulator.ledger.posts == 0


def test_unknown_code_fails_that_mark_only(make_ctx, emulator) -> None:
    marks = [*_marks(emulator, 1), *_marks(emulator, 1, code="??")]
    marks[1] = marks[1].model_copy(update={"key": "other"})
    receipts = WONDE.connectkit_write_back(ctx=make_ctx(), marks=marks)
    by_state = {r.state: r for r in receipts}
    assert by_state[WriteBackState.FAILED].mark_keys == ("other",)
    assert "code" in (by_state[WriteBackState.FAILED].detail or "")
    assert len(emulator.ledger.marks) == 1


def test_lesson_marks_go_to_the_lesson_endpoint(make_ctx, emulator) -> None:
    seed = emulator.schools[DEFAULT_SCHOOL].seed
    mark = AttendanceMark(
        key="l1",
        student_mis_id=wonde_id("student", seed, 2),
        date=DAY,
        session="AM",
        code="L",
        kind=WriteBackKind.LESSON,
        lesson_id="A1450080597",
    )
    [receipt] = WONDE.connectkit_write_back(ctx=make_ctx(), marks=[mark])
    assert receipt.state is WriteBackState.ACCEPTED
    assert any(key[2] == "LESSON" for key in emulator.ledger.marks)


def test_school_without_writeback_is_refused(make_ctx, emulator) -> None:
    emulator.schools[DEFAULT_SCHOOL].allows_writeback = False
    try:
        with pytest.raises(NotSupportedError, match="allows_writeback"):
            WONDE.connectkit_write_back(ctx=make_ctx(), marks=_marks(emulator, 1))
    finally:
        emulator.schools[DEFAULT_SCHOOL].allows_writeback = True
    assert emulator.ledger.posts == 0
