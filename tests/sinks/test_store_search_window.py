"""A text search reads a bounded window per request; following its cursor covers the whole store."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _ui_store import span
from flext_observability.models import FlextTrace
from flext_observability.sinks import SQLiteStore
from flext_observability.sinks._store_browse import Cursor
from flext_observability.sinks._store_traces import SpanFilter, list_traces, search_floor

_NAMES = ("alpha", "beta NEEDLE", "gamma", "needle-delta", "epsilon")
_SERVICES = ("shop", "billing")

# one span: (trace number, start offset in ms (few values: many ties), name, service)
_span_specs = st.lists(
    st.tuples(
        st.integers(0, 7),
        st.sampled_from([0, 1, 2, 5, 5, 9]),
        st.sampled_from(_NAMES),
        st.sampled_from(_SERVICES),
    ),
    min_size=0,
    max_size=30,
)


def _store(path: Path, specs: list[tuple[int, int, str, str]], batches: int) -> list[FlextTrace]:
    spans = [
        span(f"{trace + 1:032x}", sid + 1, name, start, 1.0, service=service)
        for sid, (trace, start, name, service) in enumerate(specs)
    ]
    size = max(1, len(spans) // batches + 1)
    with SQLiteStore(path, retention_hours=None, max_mb=None) as store:
        store.maintain()  # creates the file even when there is nothing to write
        for first in range(0, len(spans), size):
            store.write(spans[first : first + size])
            assert store.dropped == {}
    return spans


def _expected(reader: SQLiteStore, spans: list[FlextTrace], flt: SpanFilter) -> list[str]:
    """Traces with a matching span, by their newest matching span (timestamp, seq), newest first."""
    position = {
        span_id: (int(ts), int(seq))
        for span_id, ts, seq in reader.select("SELECT span_id, timestamp, seq FROM traces")
    }
    newest: dict[str, tuple[int, int]] = {}
    for one in spans:
        text = (flt.text or "").lower()
        if text not in one.operation_name.lower():
            continue
        if flt.service and one.service_name != flt.service:
            continue
        key = position[one.span_id]
        newest[one.trace_id] = max(newest.get(one.trace_id, key), key)
    return sorted(newest, key=lambda trace_id: newest[trace_id], reverse=True)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    specs=_span_specs,
    batches=st.integers(1, 3),
    window=st.integers(1, 6),
    limit=st.integers(1, 4),
    service=st.sampled_from([None, *_SERVICES]),
)
def test_following_the_search_cursor_lists_every_match_once_in_order(
    specs: list[tuple[int, int, str, str]],
    batches: int,
    window: int,
    limit: int,
    service: str | None,
) -> None:
    """Windowed text-search pages, followed to the end, list each matching trace once, in order."""
    flt = SpanFilter(text="needle", service=service)
    with tempfile.TemporaryDirectory(prefix="flext-search-") as tmp:
        path = Path(tmp) / "s.db"
        spans = _store(path, specs, batches)
        reader = SQLiteStore.open_readonly(path)
        try:
            expected = _expected(reader, spans, flt)
            listed: list[str] = []
            before: Cursor | None = None
            for _ in range(len(specs) + 2):  # every request moves back at least one span
                page = list_traces(reader, flt, before=before, limit=limit, window=window)
                assert len(page.items) <= limit
                if page.searched_to is not None:
                    # the window ended first: the cursor continues from the oldest span it read
                    assert page.next is not None
                    assert page.next.timestamp == page.searched_to
                    assert page.next == search_floor(reader, flt, before, window)
                listed += [row.trace_id for row in page.items]
                if page.next is None:
                    break
                assert before is None or (page.next.timestamp, page.next.seq) < (
                    before.timestamp,
                    before.seq,
                )
                before = page.next
            else:
                raise AssertionError("the search did not end")
        finally:
            reader.close()
    assert listed == expected


def test_a_search_matching_nothing_reads_one_window_and_says_how_far(tmp_path: Path) -> None:
    """With more spans than the window, a miss returns no rows, a cursor and the time reached."""
    path = tmp_path / "w.db"
    spans = _store(path, [(i % 5, i, "alpha", "shop") for i in range(12)], 1)
    reader = SQLiteStore.open_readonly(path)
    try:
        flt = SpanFilter(text="nothing-like-this")
        first = list_traces(reader, flt, window=5)
        assert first.items == []
        assert first.next is not None
        # the 5th newest span: start offsets are 0..11 ms, so the window ends at the 7 ms one
        assert first.searched_to == first.next.timestamp
        assert first.searched_to == next(
            int(ts)
            for (ts,) in reader.select(
                "SELECT timestamp FROM traces WHERE span_id = ?", (spans[7].span_id,)
            )
        )
        second = list_traces(reader, flt, before=first.next, window=5)
        third = list_traces(reader, flt, before=second.next, window=5)
        assert second.searched_to is not None
        assert (third.items, third.next, third.searched_to) == ([], None, None)
        # a time range holding at most one window of spans is searched in one request
        since = SpanFilter(text="x", since=first.next.timestamp)
        assert search_floor(reader, since, None, 5) is None
        assert search_floor(reader, since, None, 4) is not None
    finally:
        reader.close()


def test_a_full_batch_of_already_listed_spans_does_not_end_the_list(tmp_path: Path) -> None:
    """An older page whose first batch is mostly an earlier page's trace still links onwards."""
    path = tmp_path / "b.db"
    a, b, c = "a" * 32, "b" * 32, "c" * 32
    with SQLiteStore(path, retention_hours=None, max_mb=None) as store:
        store.write(
            [
                span(a, 1, "root", 100, 1),
                # below the first page's cursor: 10 more spans of `a`, 6 of `b`: one full batch
                *(span(a, 2 + i, "child", 90 - i, 1) for i in range(10)),
                *(span(b, 20 + i, "child", 80 - i, 1) for i in range(6)),
                span(c, 40, "root", 1, 1),
            ]
        )
        listed: list[str] = []
        before: Cursor | None = None
        for _ in range(5):
            page = list_traces(store, SpanFilter(), before=before, limit=1)
            listed += [row.trace_id for row in page.items]
            if page.next is None:
                break
            before = page.next
    assert listed == [a, b, c]
