"""Small helpers shared by the feature forms and by every CSV/XLSX writer of the app."""

import csv
import io

from wtforms.fields.choices import SelectChoice

# A spreadsheet program reads a cell starting with one of these as a formula (or, for tab
# and CR, as the start of one after its own parsing): =HYPERLINK(…), =cmd|' /C calc'!A0,
# +1+cmd…, -1+…, @SUM(…). Text a user, an import or an anonymous log-in typed must never
# become a live formula in an export (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def options(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms 3.3 select choices."""
    return [SelectChoice(value, label) for value, label in pairs]


def error_at_field(form, exc) -> bool:
    """Show an operation's error at the form field it names (marked, described and focused by
    templates/_partials/_forms.html); False when the form has no such field, so the caller
    shows it as a message at the top instead."""
    name = getattr(exc, "field", None)
    if not name or name not in form:
        return False
    form[name].errors = [*form[name].errors, exc.message]
    return True


def formula_risk(value) -> bool:
    """Text that a spreadsheet would take for a formula. Numbers are numbers: -5 stays -5."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def _csv_guarded(value) -> bool:
    """Text that gets the guard apostrophe in a CSV: risky text, and text that already starts
    with apostrophes before a risky character (so that taking one apostrophe off on import,
    ``csv_unguard``, gives back exactly what was typed)."""
    return isinstance(value, str) and formula_risk(value.lstrip("'"))


def csv_safe(value):
    """A CSV cell: risky text gets a leading apostrophe, which spreadsheets show as text."""
    if value is None:
        return ""
    return "'" + value if _csv_guarded(value) else value


def csv_unguard(cell: str) -> str:
    """A cell of a CSV being imported, without the guard apostrophe ``csv_safe`` puts on
    export: one apostrophe is taken off only where the export adds one (before = + - @, tab
    or CR, possibly after more apostrophes); any other text is left as it is."""
    if cell.startswith("'") and _csv_guarded(cell[1:]):
        return cell[1:]
    return cell


def csv_bytes(rows, header=None) -> bytes:
    """Rows as UTF-8 CSV with a BOM (so Chinese Excel opens it right), every cell made safe.
    The one CSV writer of the app: exports, import error reports, evidence packs."""
    buf = io.StringIO()
    w = csv.writer(buf)
    if header is not None:
        w.writerow([csv_safe(v) for v in header])
    for row in rows:
        w.writerow([csv_safe(v) for v in row])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def xlsx_safe(value):
    """A cell value Excel accepts: control characters (which a user or an import may have
    typed) are dropped instead of making the whole workbook fail."""
    if isinstance(value, str):
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


def xlsx_append(ws, values) -> None:
    """Append a row to an openpyxl worksheet: the one XLSX row writer of the app. Values are
    cleaned by ``xlsx_safe``; risky text is written as a text cell with Excel's quote prefix
    (shown as typed, never evaluated, not turned into a formula when edited)."""
    from openpyxl.cell.cell import Cell

    row = []
    for value in values:
        value = xlsx_safe(value)
        if formula_risk(value):
            cell = Cell(ws, value=value)
            cell.data_type = "s"  # openpyxl would otherwise store "=…" as a formula
            cell.quotePrefix = True
            row.append(cell)
        else:
            row.append(value)
    ws.append(row)
