"""Which column is what: Chinese and English headers, several phones, overrides."""

from __future__ import annotations

import pytest

from lists.columns import (
    ColumnMap,
    detect_field,
    map_columns,
    mapping_from_json,
    parse_mapping,
)
from lists.errors import BadMapping, ColumnNotFound, NoHeader, NoPhoneColumn


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("手机号", "phone"),
        ("联系电话", "phone"),
        ("电话", "phone"),
        ("手机号码", "phone"),
        ("客户手机", "phone"),
        ("Mobile", "phone"),
        ("Phone Number", "phone"),
        ("TEL", "phone"),
        ("Work Phone", "phone"),
        ("联系电话/座机", "phone"),
        ("姓名", "name"),
        ("客户姓名", "name"),
        ("Customer Name", "name"),
        ("订单号", "order_id"),
        ("订单号码", "order_id"),  # not a phone column, though it says 号码
        ("Order ID", "order_id"),
        ("收货地址", "address"),
        ("Address", "address"),
        ("Hotel", None),
        ("金额", None),
        ("Email", None),
    ],
)
def test_detect_field(header: str, field: str | None) -> None:
    assert detect_field(header) == field


def test_crm_export_several_phones_become_one_contact() -> None:
    headers = ["Customer ID", "Full Name", "Mobile", "Home Phone", "Work Phone", "Email"]
    cmap = map_columns(headers)
    assert cmap == ColumnMap(
        phones=("Mobile", "Home Phone", "Work Phone"),
        name="Full Name",
        custom=("Customer ID", "Email"),
    )


def test_explicit_mapping_overrides_detection() -> None:
    headers = ["手机号", "备用号", "客户姓名", "昵称", "备注"]
    mapping = parse_mapping(["phone=备用号", "name=昵称", "phone=手机号"])
    assert mapping == {"phone": ["备用号", "手机号"], "name": ["昵称"]}
    cmap = map_columns(headers, mapping)
    assert cmap.phones == ("备用号", "手机号")
    assert cmap.name == "昵称"
    assert cmap.custom == ("客户姓名", "备注")  # detection of name is off once it is mapped


def test_mapping_from_json() -> None:
    assert mapping_from_json({"phone": ["手机", "座机"], "Order ID": "单号"}) == {
        "phone": ["手机", "座机"],
        "order_id": ["单号"],
    }
    with pytest.raises(BadMapping):
        mapping_from_json({"phone": 3})


def test_mapping_errors_name_the_problem() -> None:
    with pytest.raises(BadMapping, match="FIELD=COLUMN"):
        parse_mapping(["phone"])
    with pytest.raises(BadMapping, match="unknown field 'email'"):
        parse_mapping(["email=邮箱"])
    with pytest.raises(ColumnNotFound, match=r"手机号码.*columns: 电话, 姓名"):
        map_columns(["电话", "姓名"], {"phone": ["手机号码"]})


def test_no_phone_column_and_no_header() -> None:
    with pytest.raises(NoPhoneColumn, match="姓名, 金额"):
        map_columns(["姓名", "金额"])
    with pytest.raises(NoHeader, match="13800138000"):
        map_columns(["13800138000", "张三"])
