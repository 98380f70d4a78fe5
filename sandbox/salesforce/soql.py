"""A SOQL subset compiled to parameterised SQLite SQL.

Supported: ``SELECT`` field lists with one-level parent fields (``Account.Name``) and ``COUNT()``;
``WHERE`` with ``AND``/``OR``/``NOT``, parentheses, ``= != <> < <= > >=``, ``IN``/``NOT IN``, ``LIKE``,
``INCLUDES``/``EXCLUDES``, ``null``, booleans, numbers, strings, date and dateTime literals and the
date literals ``TODAY``, ``YESTERDAY``, ``TOMORROW``, ``LAST_N_DAYS:n``, ``NEXT_N_DAYS:n``; ``ORDER BY``
(``ASC``/``DESC``, ``NULLS FIRST``/``LAST``), ``LIMIT`` and ``OFFSET``. Everything else is answered with
``MALFORMED_QUERY`` as Salesforce would for a syntax it does not know. Names are case-insensitive;
results carry the schema's canonical names. Values are always bound as parameters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sandbox.salesforce.clock import format_datetime, normalise_datetime
from sandbox.salesforce.errors import ApiError
from sandbox.salesforce.ids import is_id, to18
from sandbox.salesforce.schema import Field, SObject
from sandbox.salesforce.store import q

TOKEN_RE = re.compile(r"""
    (?P<ws>\s+)
  | (?P<string>'(?:[^'\\]|\\.)*')
  | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:?\d{2}))
  | (?P<date>\d{4}-\d{2}-\d{2}(?![\dT]))
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<op><=|>=|!=|<>|=|<|>)
  | (?P<punct>[(),:])
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
""", re.VERBOSE)
KEYWORDS = {"select", "from", "where", "and", "or", "not", "in", "like", "includes", "excludes", "order", "by",
            "asc", "desc", "nulls", "first", "last", "limit", "offset", "null", "true", "false", "count"}
RANGE_LITERALS = {"today", "yesterday", "tomorrow", "last_n_days", "next_n_days", "this_month", "last_month"}
NUMERIC = {"int", "double", "currency", "percent"}


def malformed(message: str) -> ApiError:
    return ApiError(400, "MALFORMED_QUERY", message)


@dataclass
class Token:
    kind: str
    text: str

    @property
    def lower(self) -> str:
        return self.text.lower()


@dataclass
class Column:
    """One selected column: where it comes from and how it is named in REST JSON and in Bulk CSV."""
    label: str                 # "Email" or "Account.Name"
    field: Field
    relationship: str | None   # "Account" for parent fields
    parent_type: str | None


@dataclass
class Compiled:
    obj: SObject
    columns: list[Column]
    select_sql: str            # yields (rowid, col1, col2, ...)
    count_sql: str
    params: list
    is_count: bool = False
    ordered: bool = False
    limit: int | None = None
    offset: int = 0
    where: str = ""
    relationships: list[tuple[str, str]] = field(default_factory=list)  # (relationship name, parent type)
    csv_sql: str = ""          # the same rows as Bulk API CSV text, converted by SQLite (no per-cell Python)

    def bulk_sql(self, include_deleted: bool) -> str:
        where = self.where
        if include_deleted:
            where = where.replace("WHERE t.IsDeleted = 0 AND ", "WHERE ").replace("WHERE t.IsDeleted = 0", "")
        return self.csv_sql.replace("{where}", where)

    def sql(self, include_deleted: bool, after_rowid: bool = False) -> tuple[str, str]:
        """(select, count) statements; ``queryAll`` drops the IsDeleted filter; ``after_rowid`` adds a
        keyset condition (one more ``?`` appended to the parameters) for cheap deep paging."""
        where = self.where
        if include_deleted:
            where = where.replace("WHERE t.IsDeleted = 0 AND ", "WHERE ").replace("WHERE t.IsDeleted = 0", "")
        count = self.count_sql.replace("{where}", where)
        if after_rowid:
            where = (where + " AND t.rowid > ?") if where else "WHERE t.rowid > ?"
        return self.select_sql.replace("{where}", where), count


def tokenize(text: str) -> list[Token]:
    tokens, pos = [], 0
    while pos < len(text):
        match = TOKEN_RE.match(text, pos)
        if not match:
            raise malformed(f"unexpected token: '{text[pos:pos + 20]}'")
        pos = match.end()
        if match.lastgroup != "ws":
            tokens.append(Token(match.lastgroup, match.group()))
    return tokens


def _unquote(literal: str) -> str:
    body = literal[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t", "r": "\r"}.get(m.group(1), m.group(1)), body)


class _Parser:
    def __init__(self, soql: str, objects: dict[str, SObject], now: datetime):
        self.soql = soql
        self.tokens = tokenize(soql)
        self.pos = 0
        self.objects = objects
        self.now = now
        self.obj: SObject | None = None
        self.params: list = []
        self.joins: dict[str, tuple[str, Field, SObject]] = {}

    # token helpers
    def peek(self, offset: int = 0) -> Token | None:
        idx = self.pos + offset
        return self.tokens[idx] if idx < len(self.tokens) else None

    def next(self) -> Token:
        tok = self.peek()
        if tok is None:
            raise malformed(f"unexpected end of query: {self.soql[-40:]}")
        self.pos += 1
        return tok

    def accept(self, word: str) -> bool:
        tok = self.peek()
        if tok is not None and tok.kind in ("ident", "punct", "op") and tok.lower == word:
            self.pos += 1
            return True
        return False

    def expect(self, word: str) -> None:
        if not self.accept(word):
            tok = self.peek()
            raise malformed(f"unexpected token: '{tok.text if tok else 'end of query'}', expecting '{word.upper()}'")

    # grammar
    def parse(self) -> Compiled:
        self.expect("select")
        select_items: list[str] = []
        is_count = False
        while True:
            tok = self.next()
            if tok.kind != "ident":
                raise malformed(f"unexpected token: '{tok.text}'")
            if tok.lower == "count" and self.accept("("):
                self.expect(")")
                is_count = True
            else:
                select_items.append(tok.text)
            if not self.accept(","):
                break
        self.expect("from")
        obj_tok = self.next()
        self.obj = self._object(obj_tok.text)
        columns = [self._column(item) for item in select_items]
        if is_count and columns:
            raise malformed("COUNT() must be the only element in the SELECT list")
        where_sql = ""
        if self.accept("where"):
            where_sql = self._or()
        order_sql = []
        if self.accept("order"):
            self.expect("by")
            while True:
                col = self._column(self.next().text)
                expr = self._expr(col)
                direction = "DESC" if self.accept("desc") else "ASC"
                if direction == "ASC":
                    self.accept("asc")
                nulls = ""
                if self.accept("nulls"):
                    nulls = " NULLS LAST" if self.accept("last") else (" NULLS FIRST" if self.accept("first") else "")
                collate = " COLLATE NOCASE" if col.field.sql_type == "TEXT" else ""
                order_sql.append(f"{expr}{collate} {direction}{nulls}")
                if not self.accept(","):
                    break
        limit = offset = None
        if self.accept("limit"):
            limit = self._int()
        if self.accept("offset"):
            offset = self._int()
        if self.peek() is not None:
            raise malformed(f"unexpected token: '{self.peek().text}'")
        return self._build(columns, where_sql, order_sql, limit, offset or 0, is_count)

    def _int(self) -> int:
        tok = self.next()
        if tok.kind != "number" or "." in tok.text or tok.text.startswith("-"):
            raise malformed(f"unexpected token: '{tok.text}'")
        return int(tok.text)

    def _object(self, name: str) -> SObject:
        for obj in self.objects.values():
            if obj.name.lower() == name.lower():
                return obj
        raise ApiError(400, "INVALID_TYPE", f"sObject type '{name}' is not supported. If you are attempting to use "
                       "a custom object, be sure to append the '__c' after the entity name. Please reference your "
                       "WSDL or the describe call for the appropriate names.")

    def _no_such_column(self, name: str) -> ApiError:
        return ApiError(400, "INVALID_FIELD", f"No such column '{name}' on entity '{self.obj.name}'. If you are "
                        "attempting to use a custom field, be sure to append the '__c' after the custom field name. "
                        "Please reference your WSDL or the describe call for the appropriate names.")

    def _column(self, name: str) -> Column:
        parts = name.split(".")
        if len(parts) == 1:
            f = self.obj.lookup(name)
            if f is None:
                raise self._no_such_column(name)
            return Column(f.name, f, None, None)
        if len(parts) == 2:
            rel = self.obj.relationship(parts[0])
            if rel is None or len(rel.reference_to) != 1:
                raise ApiError(400, "INVALID_FIELD", f"Didn't understand relationship '{parts[0]}' in field path. "
                               "If you are attempting to use a custom relationship, be sure to append the '__r' after "
                               "the custom relationship name.")
            parent = self.objects[rel.reference_to[0]]
            f = parent.lookup(parts[1])
            if f is None:
                raise ApiError(400, "INVALID_FIELD", f"No such column '{parts[1]}' on entity '{parent.name}'.")
            self.joins.setdefault(rel.relationship_name, (f"r{len(self.joins)}", rel, parent))
            return Column(f"{rel.relationship_name}.{f.name}", f, rel.relationship_name, parent.name)
        raise malformed(f"relationship depth not supported by the emulator: {name}")

    def _expr(self, col: Column) -> str:
        if col.relationship is None:
            return f"t.{q(col.field.name)}"
        alias = self.joins[col.relationship][0]
        return f"{alias}.{q(col.field.name)}"

    def _or(self) -> str:
        parts = [self._and()]
        while self.accept("or"):
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"

    def _and(self) -> str:
        parts = [self._not()]
        while self.accept("and"):
            parts.append(self._not())
        return parts[0] if len(parts) == 1 else "(" + " AND ".join(parts) + ")"

    def _not(self) -> str:
        if self.accept("not"):
            return f"NOT ({self._not()})"
        if self.accept("("):
            inner = self._or()
            self.expect(")")
            return f"({inner})"
        return self._predicate()

    def _predicate(self) -> str:
        tok = self.next()
        if tok.kind != "ident" or tok.lower in KEYWORDS - {"count"}:
            raise malformed(f"unexpected token: '{tok.text}'")
        col = self._column(tok.text)
        expr = self._expr(col)
        f = col.field
        text_collate = " COLLATE NOCASE" if f.sql_type == "TEXT" and f.type not in ("date", "datetime") else ""
        op_tok = self.next()
        op = op_tok.lower
        if op == "not" and self.accept("in"):
            return f"({expr} IS NULL OR {expr}{text_collate} NOT IN ({self._value_list(f)}))"
        if op == "in":
            return f"{expr}{text_collate} IN ({self._value_list(f)})"
        if op == "like":
            value = self.next()
            if value.kind != "string":
                raise malformed(f"unexpected token: '{value.text}'")
            self.params.append(_unquote(value.text).replace("\\%", "\x01").replace("\\_", "\x02")
                               .replace("\x01", "\\%").replace("\x02", "\\_"))
            return f"{expr} LIKE ? ESCAPE '\\'"
        if op in ("includes", "excludes"):
            if f.type != "multipicklist":
                raise malformed(f"invalid operator on field {f.name}: {op}")
            self.expect("(")
            groups = []
            while True:
                value = self.next()
                if value.kind != "string":
                    raise malformed(f"unexpected token: '{value.text}'")
                terms = []
                for item in _unquote(value.text).split(";"):
                    self.params.append(f"%;{item.strip()};%")
                    terms.append(f"(';' || {expr} || ';') LIKE ?")
                groups.append("(" + " AND ".join(terms) + ")")
                if not self.accept(","):
                    break
            self.expect(")")
            any_sql = "(" + " OR ".join(groups) + ")"
            return any_sql if op == "includes" else f"({expr} IS NULL OR NOT {any_sql})"
        if op_tok.kind != "op":
            raise malformed(f"unexpected token: '{op_tok.text}'")
        op = "!=" if op == "<>" else op
        value_tok = self.next()
        if value_tok.kind == "ident" and value_tok.lower == "null":
            if op == "=":
                return f"{expr} IS NULL"
            if op == "!=":
                return f"{expr} IS NOT NULL"
            raise malformed("null can only be compared with = or !=")
        if value_tok.kind == "ident" and value_tok.lower in RANGE_LITERALS:
            return self._range(expr, f, op, value_tok)
        self.params.append(self._convert(f, value_tok))
        return f"{expr}{text_collate} {op} ?"

    def _value_list(self, f: Field) -> str:
        self.expect("(")
        if self.peek() is not None and self.peek().lower == "select":
            raise malformed("semi-join sub-selects are not supported by the emulator")
        marks = []
        while True:
            self.params.append(self._convert(f, self.next()))
            marks.append("?")
            if not self.accept(","):
                break
        self.expect(")")
        return ", ".join(marks)

    def _convert(self, f: Field, tok: Token):
        t = f.type
        if t == "boolean":
            if tok.kind == "ident" and tok.lower in ("true", "false"):
                return 1 if tok.lower == "true" else 0
        elif t in NUMERIC:
            if tok.kind == "number":
                return float(tok.text) if t != "int" else int(float(tok.text))
        elif t == "datetime":
            if tok.kind == "datetime":
                return normalise_datetime(tok.text)
            raise malformed(f"value of filter criterion for field '{f.name}' must be of type dateTime and should "
                            "not be enclosed in quotes")
        elif t == "date":
            if tok.kind == "date":
                return tok.text
            raise malformed(f"value of filter criterion for field '{f.name}' must be of type date and should not "
                            "be enclosed in quotes")
        elif tok.kind == "string":
            value = _unquote(tok.text)
            if t in ("id", "reference") and is_id(value):
                return to18(value)
            return value
        raise malformed(f"value of filter criterion for field '{f.name}' must be of type {t}: {tok.text}")

    def _range(self, expr: str, f: Field, op: str, tok: Token) -> str:
        if f.type not in ("date", "datetime"):
            raise malformed(f"date literal {tok.text} used on non-date field {f.name}")
        name = tok.lower
        n = 1
        if name in ("last_n_days", "next_n_days"):
            self.expect(":")
            n = self._int()
        today = self.now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        spans = {
            "today": (today, today + timedelta(days=1)),
            "yesterday": (today - timedelta(days=1), today),
            "tomorrow": (today + timedelta(days=1), today + timedelta(days=2)),
            "last_n_days": (today - timedelta(days=n), today + timedelta(days=1)),
            "next_n_days": (today + timedelta(days=1), today + timedelta(days=n + 1)),
        }
        first_of_month = today.replace(day=1)
        prev_month = (first_of_month - timedelta(days=1)).replace(day=1)
        next_month = (first_of_month + timedelta(days=32)).replace(day=1)
        spans["this_month"] = (first_of_month, next_month)
        spans["last_month"] = (prev_month, first_of_month)
        start, end = spans[name]
        if f.type == "date":
            lo, hi = start.date().isoformat(), end.date().isoformat()
        else:
            lo, hi = format_datetime(start), format_datetime(end)
        sql = {"=": f"({expr} >= ? AND {expr} < ?)", "!=": f"({expr} < ? OR {expr} >= ?)", "<": f"{expr} < ?",
               "<=": f"{expr} < ?", ">": f"{expr} >= ?", ">=": f"{expr} >= ?"}[op]
        values = {"=": [lo, hi], "!=": [lo, hi], "<": [lo], "<=": [hi], ">": [hi], ">=": [lo]}[op]
        self.params.extend(values)
        return sql

    def _build(self, columns, where_sql, order_sql, limit, offset, is_count) -> Compiled:
        joins = " ".join(f"LEFT JOIN {q(parent.name)} {alias} ON {alias}.Id = t.{q(rel.name)}"
                         for alias, rel, parent in self.joins.values())
        where = "WHERE t.IsDeleted = 0" + (f" AND {where_sql}" if where_sql else "")
        exprs = ["t.rowid"] + [self._expr(c) for c in columns] + [f"{a}.Id" for a, _, _ in self.joins.values()]
        base = f"FROM {q(self.obj.name)} t {joins} {{where}}"
        order = " ORDER BY " + ", ".join(order_sql) if order_sql else " ORDER BY t.rowid"
        return Compiled(obj=self.obj, columns=columns, select_sql=f"SELECT {', '.join(exprs)} {base}{order}",
                        count_sql=f"SELECT COUNT(*) {base}", params=self.params, is_count=is_count,
                        ordered=bool(order_sql), limit=limit, offset=offset, where=where,
                        relationships=[(rel.relationship_name, parent.name) for _, rel, parent in self.joins.values()],
                        csv_sql="SELECT " + ", ".join(_as_csv_text(self._expr(c), c.field.type) for c in columns)
                        + f" {base}{order}")

def _as_csv_text(expr: str, ftype: str) -> str:
    """Bulk API 2.0 CSV text for a column: booleans true/false, dateTimes ...SSSZ (null stays empty)."""
    if ftype == "boolean":
        return f"CASE {expr} WHEN 1 THEN 'true' WHEN 0 THEN 'false' END"
    if ftype == "datetime":
        return f"substr({expr}, 1, 23) || 'Z'"
    return expr


def compile_soql(soql: str, objects: dict[str, SObject], now: datetime) -> Compiled:
    return _Parser(soql, objects, now).parse()

