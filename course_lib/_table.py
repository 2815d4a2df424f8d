"""A list of rows that shows as a table: HTML in a notebook, aligned text elsewhere."""

from __future__ import annotations

import html
from dataclasses import fields


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, tuple):
        return "×".join(str(v) for v in value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10_000:
        return f"{value:,}"
    return str(value)


class Table(list):
    """Rows (dataclass instances) that display as a table; still a plain ``list`` otherwise."""

    title: str = ""

    def _columns(self) -> list[str]:
        return [f.name for f in fields(self[0])] if self else []

    def _cells(self) -> list[list[str]]:
        return [[_cell(getattr(row, c)) for c in self._columns()] for row in self]

    def footer(self) -> str:
        return ""

    def __repr__(self) -> str:
        cols = self._columns()
        body = self._cells()
        widths = [max(len(c), *(len(r[i]) for r in body)) for i, c in enumerate(cols)] if body else []
        lines = [self.title] if self.title else []
        lines.append("  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)))
        lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in body]
        if self.footer():
            lines.append(self.footer())
        return "\n".join(line.rstrip() for line in lines)

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(c)}</th>" for c in self._columns())
        rows = "".join(
            "<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in r) + "</tr>" for r in self._cells()
        )
        caption = f"<caption>{html.escape(self.title)}</caption>" if self.title else ""
        foot = f"<p>{html.escape(self.footer())}</p>" if self.footer() else ""
        return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>{foot}"
