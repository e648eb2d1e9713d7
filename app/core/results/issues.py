"""A bounded list of warnings about a results file, so one bad file cannot flood the viewer."""

from __future__ import annotations

from collections import Counter


class IssueLog:
    """Collects warning messages; keeps the first ``limit`` in full and counts the rest per kind."""

    def __init__(self, limit: int = 50) -> None:
        self.limit = limit
        self._messages: list[str] = []
        self._overflow: Counter[str] = Counter()

    def add(self, message: str, kind: str = "warning") -> None:
        """Record one problem; ``kind`` groups the ones beyond the limit in the closing summary."""
        if len(self._messages) < self.limit:
            self._messages.append(message)
        else:
            self._overflow[kind] += 1

    def messages(self) -> list[str]:
        """The recorded messages, followed by one line per kind that overflowed."""
        summary = [f"... and {count} more {kind} problems" for kind, count in self._overflow.items()]
        return [*self._messages, *summary]

    def __len__(self) -> int:
        return len(self._messages) + sum(self._overflow.values())
