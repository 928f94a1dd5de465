"""The bridge's OTel twin is emitted only when a processor other than ours would see it."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from opentelemetry._logs import get_logger_provider
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor

from flext_observability import setup
from flext_observability._internal.pipeline import build_pipeline
from flext_observability.logs import (
    BridgeDrainProcessor,
    EntityLogRecordProcessor,
    _has_other_processors,
)
from flext_observability.models import FlextLogEntry


def test_only_our_processors_need_no_twin() -> None:
    """A provider with just our two processors needs no twin; any other one does."""
    pipeline = build_pipeline()
    provider = LoggerProvider(shutdown_on_exit=False)
    assert not _has_other_processors(provider)
    provider.add_log_record_processor(BridgeDrainProcessor(pipeline, shutdown_timeout=1))
    provider.add_log_record_processor(EntityLogRecordProcessor(pipeline))
    assert not _has_other_processors(provider)
    other = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call] # unannotated in the SDK
    provider.add_log_record_processor(SimpleLogRecordProcessor(other))
    assert _has_other_processors(provider)
    provider.shutdown()
    pipeline.shutdown(5)


@pytest.mark.usefixtures("clean_globals")
def test_a_processor_added_after_setup_still_gets_bridged_records(tmp_path: Path) -> None:
    """Store-only setup: the entry is stored; a processor added later receives the twin."""
    handle = setup(service_name="shop", store_path=tmp_path / "t.db", logs_exporter=())
    log = logging.getLogger("shop.twin")
    log.warning("first, before any exporter")
    assert handle.force_flush(10)
    provider = get_logger_provider()
    assert isinstance(provider, LoggerProvider)
    memory = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call] # unannotated in the SDK
    provider.add_log_record_processor(SimpleLogRecordProcessor(memory))
    log.warning("second, with an exporter")
    assert handle.force_flush(10)
    assert [r.log_record.body for r in memory.get_finished_logs()] == ["second, with an exporter"]
    assert handle.store is not None
    stored = [e.message for e in handle.store.query("logs") if isinstance(e, FlextLogEntry)]
    assert "first, before any exporter" in stored
    assert "second, with an exporter" in stored
