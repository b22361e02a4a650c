"""Which column is what: header detection in Chinese and English, explicit overrides.

Fields: ``phone`` (one or more columns; the first is the primary number, the
others become alternates of the same contact), ``name``, ``order_id``,
``address``, and in a return-visit campaign ``visit_date`` (when the delivery or service
happened: the call falls due N days later, lists/dates.py). Every other column is kept as a
custom field, shown to agents; so is the visit date column, as the file wrote it, and the
column saying what was delivered or serviced (商品, 服务内容, product...).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from lists import consent
from lists.errors import BadMapping, ColumnNotFound, NoHeader, NoPhoneColumn

FIELDS = ("phone", "name", "order_id", "address", "visit_date")
_FIELD_ALIASES = {
    "mobile": "phone", "tel": "phone", "order": "order_id", "orderid": "order_id",
    "date": "visit_date", "visitdate": "visit_date", "delivered_at": "visit_date",
    "happened_at": "visit_date", "service_date": "visit_date",
}  # fmt: skip

# exact header names (after _key: NFKC, lower case, no blanks or punctuation)
_EXACT = {
    "phone": {
        "电话", "手机", "手机号", "手机号码", "联系电话", "电话号码", "联系方式", "号码",
        "移动电话", "座机", "固话", "固定电话", "备用电话", "其他电话", "联系手机",
        "phone", "mobile", "tel", "telephone", "cell", "cellphone", "phonenumber",
        "mobilenumber", "mobilephone", "msisdn", "contactnumber", "phoneno", "mobileno",
    },
    "name": {
        "姓名", "客户姓名", "客户名称", "名字", "联系人", "客户", "收货人", "name",
        "customername", "fullname", "contactname", "customer", "contact",
    },
    "order_id": {
        "订单号", "订单编号", "单号", "订单id", "订单", "orderid", "orderno", "ordernumber",
        "order",
    },
    "address": {
        "地址", "收货地址", "详细地址", "联系地址", "送货地址", "住址", "address", "addr",
        "shippingaddress", "deliveryaddress",
    },
    "visit_date": {
        "送货日期", "签收日期", "安装日期", "服务日期", "完成日期", "日期", "送达日期", "配送日期",
        "交付日期", "上门日期", "维修日期", "收货日期", "送货时间", "签收时间", "安装时间",
        "服务时间", "完成时间", "delivered", "deliveredat", "deliverydate", "servicedate",
        "serviceddate", "servicedat", "installdate", "installationdate", "completedat",
        "completiondate", "visitdate", "happenedat", "date",
    },
}  # fmt: skip
# substrings, tried in this order when no exact name matched ("订单号码" is an order id)
_CONTAINS: list[tuple[str, re.Pattern[str]]] = [
    ("order_id", re.compile(r"订单|order")),
    ("phone", re.compile(r"电话|手机|号码|phone|mobile|\b(?:tel|cell)")),
    ("address", re.compile(r"地址|address")),
    ("name", re.compile(r"姓名|联系人|name")),
    ("visit_date", re.compile(r"日期|date|delivered")),  # last: taken only when nothing else
]
_PUNCT = re.compile(r"[\s_\-.:：#/()（）\[\]【】]+")
_NUMBERISH = re.compile(r"^[+\d\s\-().]{6,}$")


@dataclass(frozen=True)
class ColumnMap:
    """Source column names per field; ``custom`` is every column no field took."""

    phones: tuple[str, ...]
    name: str | None = None
    order_id: str | None = None
    address: str | None = None
    custom: tuple[str, ...] = ()
    visit_date: str | None = None  # also in ``custom``, as written, for the agent's screen

    def as_dict(self) -> dict[str, object]:
        return {
            "phone": list(self.phones),
            "name": self.name,
            "order_id": self.order_id,
            "address": self.address,
            "custom": list(self.custom),
            **({"visit_date": self.visit_date} if self.visit_date else {}),
        }


def _key(header: str) -> str:
    return _PUNCT.sub("", unicodedata.normalize("NFKC", header).lower())


def detect_field(header: str) -> str | None:
    """The field a header names, or None: exact names first, then telling words."""
    key = _key(header)
    for field, names in _EXACT.items():
        if key in names:
            return field
    words = _PUNCT.sub(" ", unicodedata.normalize("NFKC", header).lower())
    for field, pattern in _CONTAINS:
        if pattern.search(words):
            return field
    return None


def parse_mapping(items: Iterable[str]) -> dict[str, list[str]]:
    """``["phone=手机号", "name=客户姓名", "phone=备用电话"]`` → ``{"phone": [...], ...}``."""
    out: dict[str, list[str]] = {}
    for item in items:
        field, sep, column = item.partition("=")
        if not sep or not column.strip():
            raise BadMapping(f"--map {item!r}: write FIELD=COLUMN, e.g. phone=手机号", item=item)
        out.setdefault(_field(field), []).append(column.strip())
    return out


def mapping_from_json(data: Mapping[str, object]) -> dict[str, list[str]]:
    """``{"phone": "手机号"}`` or ``{"phone": ["手机", "座机"]}`` from an API request."""
    out: dict[str, list[str]] = {}
    for field, value in data.items():
        columns = [value] if isinstance(value, str) else value
        if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
            raise BadMapping(f"mapping for {field!r} must be a column name or a list of them")
        out.setdefault(_field(field), []).extend(c.strip() for c in columns)
    return out


def _field(name: str) -> str:
    field = name.strip().lower().replace(" ", "_")
    field = _FIELD_ALIASES.get(field, field)
    if field not in FIELDS:
        raise BadMapping(f"unknown field {name!r} (one of {', '.join(FIELDS)})", field=name)
    return field


def map_columns(
    headers: list[str],
    explicit: Mapping[str, list[str]] | None = None,
    visit_dates: bool = False,
) -> ColumnMap:
    """Decide which column is which; ``explicit`` fields override detection.

    ``visit_dates``: a return-visit list, whose date column says when each call falls due;
    in any other list a date column is a custom field like any other.
    """
    explicit = explicit or {}
    if explicit.get("visit_date") and not visit_dates:
        raise BadMapping(
            "--map visit_date: only a return_visit campaign's list has a visit date column",
            field="visit_date",
        )
    for field, columns in explicit.items():
        for column in columns:
            if column not in headers:
                raise ColumnNotFound(
                    f"--map {field}={column}: no such column (columns: {', '.join(headers)})",
                    field=field,
                    column=column,
                    columns=headers,
                )
    chosen: dict[str, list[str]] = {f: list(explicit.get(f, [])) for f in FIELDS}
    taken = {c for cols in chosen.values() for c in cols}
    for header in headers:
        if header in taken or consent.is_consent_header(header):
            continue  # consent columns (同意日期 ...) stay custom fields: lists/consent.py
        found = detect_field(header)
        if found is None or found in explicit or (found == "visit_date" and not visit_dates):
            continue
        if found == "phone" or not chosen[found]:
            chosen[found].append(header)
            taken.add(header)
    if not chosen["phone"]:
        _no_phone(headers)
    visit = _one(chosen["visit_date"]) if visit_dates else None
    if visit is not None and "visit_date" not in explicit:
        visit = _best_date(headers, taken, visit)
    return ColumnMap(
        phones=tuple(chosen["phone"]),
        name=_one(chosen["name"]),
        order_id=_one(chosen["order_id"]),
        address=_one(chosen["address"]),
        custom=tuple(h for h in headers if h not in taken or h in chosen["visit_date"]),
        visit_date=visit,
    )


def _best_date(headers: list[str], taken: set[str], detected: str) -> str:
    """A named delivery or service date (送货日期) beats a column that only says 日期 in
    passing (下单日期): exact names first, in file order."""
    exact = _EXACT["visit_date"]
    free = (h for h in headers if h == detected or h not in taken)
    return next((h for h in free if _key(h) in exact), detected)


def _one(columns: list[str]) -> str | None:
    if len(columns) > 1:
        raise BadMapping(f"map one column to a field, not {len(columns)}: {', '.join(columns)}")
    return columns[0] if columns else None


def _no_phone(headers: list[str]) -> None:
    numberish = [h for h in headers if _NUMBERISH.match(h)]
    if numberish:
        raise NoHeader(
            f"the first row looks like data ({numberish[0]}), not column names: "
            "add a header row such as 电话,姓名",
            first_row=headers,
        )
    raise NoPhoneColumn(
        "no phone column found among: "
        + ", ".join(headers)
        + " (name one with --map phone=COLUMN)",
        columns=headers,
    )
