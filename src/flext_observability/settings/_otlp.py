"""The effective OTLP export configuration of one signal (derived from the settings)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import SecretStr

from flext_observability.settings._parse import mask_url

__all__ = ["OtlpSignalConfig", "Signal"]

Signal = Literal["traces", "metrics", "logs"]


@dataclass(frozen=True)
class OtlpSignalConfig:
    """The effective OTLP export configuration of one signal.

    `endpoint` is None when no OTLP endpoint is configured for the signal. `headers` values are
    secrets; `header_values()` reveals them for the exporter.
    """

    signal: Signal
    endpoint: str | None
    protocol: Literal["grpc", "http/protobuf", "http/json"]
    headers: dict[str, SecretStr] = field(default_factory=dict)
    timeout_s: float = 10.0
    compression: Literal["gzip", "none"] | None = None
    insecure: bool | None = None

    def header_values(self) -> dict[str, str]:
        """Return the headers with their secret values revealed (for the exporter only)."""
        return {k: v.get_secret_value() for k, v in self.headers.items()}

    def __repr__(self) -> str:
        """Show the configuration with URL credentials and header values masked."""
        endpoint = None if self.endpoint is None else mask_url(self.endpoint)
        return (
            f"OtlpSignalConfig(signal={self.signal!r}, endpoint={endpoint!r}, "
            f"protocol={self.protocol!r}, headers={sorted(self.headers)!r} (values masked), "
            f"timeout_s={self.timeout_s!r}, compression={self.compression!r}, "
            f"insecure={self.insecure!r})"
        )
