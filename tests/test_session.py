"""Session: the examples of DCAF's Session guide (imports changed to dcaf_cli), then
DESIGN.md section 3."""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Optional

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, Field

from dcaf_cli import Session, SessionValueError
from dcaf_cli.session.session import MISSING


def dumps(value: Any) -> str:
    """Strict JSON identity: `True` is not `1`, `1` is not `1.0`, key order counts."""
    return json.dumps(value, allow_nan=False)


# -- guide models (module level, so `from __future__ import annotations` resolves them) -----


class UserPreferences(BaseModel):
    theme: str = "light"
    language: str = "en"
    notifications: bool = True


@dataclass
class Config:
    debug: bool = False
    max_retries: int = 3
    timeout: float = 30.0


class CartItem(BaseModel):
    name: str
    quantity: int
    price: float


class ShoppingCart(BaseModel):
    items: list[CartItem] = Field(default_factory=list)
    discount_code: Optional[str] = None  # noqa: UP045 - as the guide writes it

    @property
    def total(self) -> float:
        return sum(item.price * item.quantity for item in self.items)


class UserPrefs(BaseModel):
    theme: str = "light"


class DeploymentState(BaseModel):
    environment: str
    services: list[str] = []
    step: int = 0


# -- guide: Basic Usage -------------------------------------------------------------------


def test_guide_basic_usage(capsys: pytest.CaptureFixture[str]) -> None:
    session = Session()

    session.set("user_id", "12345")
    session.set("preferences", {"theme": "dark", "language": "en"})

    user_id = session.get("user_id")
    prefs = session.get("preferences")
    assert user_id == "12345"
    assert prefs == {"theme": "dark", "language": "en"}

    count = session.get("count", 0)
    assert count == 0

    if session.has("user_id"):
        print("User is logged in")
    assert capsys.readouterr().out == "User is logged in\n"

    session.delete("user_id")
    assert not session.has("user_id")
    assert session.get("user_id") is None
    assert session.to_dict() == {"preferences": {"theme": "dark", "language": "en"}}


def test_guide_dict_like_access(capsys: pytest.CaptureFixture[str]) -> None:
    session = Session()
    session.set("n", 1)

    session["key"] = "value"
    value = session["key"]
    assert value == "value"

    for key in session.keys():  # noqa: SIM118 - as the guide writes it
        print(f"{key}: {session[key]}")
    for key, value in session.items():
        print(f"{key}: {value}")
    assert capsys.readouterr().out == "n: 1\nkey: value\n" * 2


def test_guide_bulk_operations() -> None:
    session = Session({"old": True})

    session.update(
        {
            "cart": [],
            "user_id": "12345",
            "step": 1,
        }
    )
    assert session.to_dict() == {"old": True, "cart": [], "user_id": "12345", "step": 1}

    session.clear()
    assert session.is_empty

    data = session.to_dict()
    assert data == {}
    assert type(data) is dict


# -- guide: Typed Storage -----------------------------------------------------------------


def test_guide_pydantic_models() -> None:
    session = Session()

    prefs = UserPreferences(theme="dark", notifications=False)
    session.set("prefs", prefs)

    # What's actually stored:
    assert session.to_dict() == {
        "prefs": {"theme": "dark", "language": "en", "notifications": False}
    }

    loaded_prefs = session.get("prefs", as_type=UserPreferences)
    assert loaded_prefs.theme == "dark"
    assert type(loaded_prefs) is UserPreferences

    raw = session.get("prefs")
    assert raw == {"theme": "dark", "language": "en", "notifications": False}
    assert type(raw) is dict


def test_guide_dataclasses() -> None:
    session = Session()

    session.set("config", Config(debug=True, max_retries=5))
    assert session["config"] == {"debug": True, "max_retries": 5, "timeout": 30.0}

    config = session.get("config", as_type=Config)
    assert type(config) is Config
    assert config.debug is True
    assert config.max_retries == 5
    assert config == Config(debug=True, max_retries=5)


def test_guide_nested_models() -> None:
    session = Session()

    cart = ShoppingCart()
    cart.items.append(CartItem(name="Widget", quantity=2, price=9.99))
    cart.items.append(CartItem(name="Gadget", quantity=1, price=24.99))
    session.set("cart", cart)

    loaded_cart = session.get("cart", as_type=ShoppingCart)
    assert loaded_cart.total == pytest.approx(44.97)
    assert loaded_cart.items[0].name == "Widget"
    assert type(loaded_cart.items[1]) is CartItem
    assert loaded_cart == cart
    assert session["cart"] == {
        "items": [
            {"name": "Widget", "quantity": 2, "price": 9.99},
            {"name": "Gadget", "quantity": 1, "price": 24.99},
        ],
        "discount_code": None,
    }


def test_guide_default_values_with_types() -> None:
    session = Session()

    cart = session.get("cart", as_type=ShoppingCart)
    assert cart is None

    default = ShoppingCart()
    cart = session.get("cart", default, as_type=ShoppingCart)
    assert cart is default  # "Never None": the default itself, unchanged

    session.set("cart", ShoppingCart(discount_code="SAVE"))
    cart = session.get("cart", ShoppingCart(), as_type=ShoppingCart)
    assert cart.discount_code == "SAVE"


def test_guide_api_reference_as_type() -> None:
    session = Session()

    session.set("prefs", UserPrefs(theme="dark"))

    prefs = session.get("prefs", as_type=UserPrefs)
    assert isinstance(prefs, UserPrefs)
    assert prefs.theme == "dark"

    raw = session.get("prefs")
    assert raw == {"theme": "dark"}

    prefs = session.get("prefs", UserPrefs(), as_type=UserPrefs)
    assert prefs == UserPrefs(theme="dark")

    # "Primitives - returned as-is"
    session.set("n", 3)
    assert session.get("n", as_type=int) == 3


def test_guide_api_reference_properties_and_from_dict() -> None:
    session = Session.from_dict({"a": 1})
    assert isinstance(session, Session)
    assert session.to_dict() == {"a": 1}
    assert not session.is_modified
    assert not session.is_empty
    assert Session().is_empty


# -- guide: Best Practices ----------------------------------------------------------------


def test_guide_best_practice_defaults() -> None:
    session = Session()

    cart = session.get("cart", [])
    count = session.get("attempt_count", 0)
    assert cart == []
    assert count == 0

    prefs = session.get("prefs", UserPrefs(), as_type=UserPrefs)
    assert prefs == UserPrefs()


def test_guide_best_practice_typed_models(capsys: pytest.CaptureFixture[str]) -> None:
    session = Session()
    assert session.get("deployment", as_type=DeploymentState) is None

    session.set("deployment", {"environment": "staging", "step": 2})
    state = session.get("deployment", as_type=DeploymentState)
    if state:
        print(state.environment)
        print(state.step)
    assert capsys.readouterr().out == "staging\n2\n"

    state = session.get("deployment")
    if state:
        assert state.get("enviroment") is None  # the typo goes unnoticed with raw dicts


def test_guide_best_practice_serializable() -> None:
    session = Session()

    session.set("items", ["a", "b", "c"])
    session.set("config", {"key": "value"})
    session.set("count", 42)

    class Connection:
        pass

    with pytest.raises(TypeError, match="'connection'"):
        session.set("connection", Connection())
    with pytest.raises(TypeError, match="'callback'"):
        session.set("callback", lambda x: x)
    assert session.to_dict() == {"items": ["a", "b", "c"], "config": {"key": "value"}, "count": 42}


def test_guide_best_practice_references_not_secrets() -> None:
    session = Session()
    session.set("user_id", "12345")
    assert session.to_dict() == {"user_id": "12345"}


# -- JSON-only values --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "problem"),
    [
        ("conn", object(), "object"),
        ("s", {1, 2}, "set"),
        ("x", float("nan"), "nan"),
        ("inf", float("inf"), "inf"),
        ("ninf", -math.inf, "inf"),
        ("raw", b"bytes", "bytes"),
        ("fn", print, "builtin_function_or_method"),
    ],
)
def test_set_rejects_non_json_and_stores_nothing(key: str, value: object, problem: str) -> None:
    session = Session({"keep": 1})
    with pytest.raises(TypeError, match=rf"session key {key!r}.*{problem}"):
        session.set(key, value)
    with pytest.raises(TypeError, match=repr(key)):
        session[key] = value
    with pytest.raises(TypeError, match=repr(key)):
        session.update({key: value})
    assert session.to_dict() == {"keep": 1}
    assert not session.has(key)
    assert not session.is_modified


@dataclass
class Added:
    name: str
    added: Any


@dataclass
class DataCart:
    items: list[Added] = field(default_factory=list)


def test_nested_bad_value_names_its_path() -> None:
    session = Session()
    cart = {"items": [{"added": 1}, {"added": 2}, {"added": {1, 2}}]}
    with pytest.raises(TypeError, match=r"cart\.items\[2\]\.added"):
        session.set("cart", cart)
    data_cart = DataCart([Added("a", 1), Added("b", 2), Added("c", object())])
    with pytest.raises(TypeError, match=r"cart\.items\[2\]\.added"):
        session.set("cart", data_cart)
    assert "cart" not in session


@pytest.mark.parametrize(
    "value",
    [
        {1: "a"},
        {"ok": {("t",): 1}},
        {"ok": [{None: 1}]},
    ],
)
def test_non_string_object_keys_rejected(value: object) -> None:
    session = Session()
    with pytest.raises(TypeError, match="keys must be strings"):
        session.set("k", value)
    assert session.is_empty


@pytest.mark.parametrize("bad_key", [1, None, ("a",), b"k"])
def test_non_string_session_keys_rejected(bad_key: Any) -> None:
    session = Session()
    with pytest.raises(TypeError, match="keys must be strings"):
        session.set(bad_key, 1)
    with pytest.raises(TypeError, match="keys must be strings"):
        Session({bad_key: 1})
    assert session.is_empty


def test_cycles_rejected() -> None:
    session = Session()
    loop: list[Any] = [1]
    loop.append(loop)
    with pytest.raises(TypeError, match=r"'l'.*l\[1\].*cycle"):
        session.set("l", loop)
    d: dict[str, Any] = {}
    d["self"] = {"again": d}
    with pytest.raises(TypeError, match="cycle"):
        session.set("d", d)
    assert session.is_empty


def test_shared_but_acyclic_values_are_fine() -> None:
    shared = {"x": 1}
    session = Session()
    session.set("pair", [shared, shared, (shared,)])
    assert session["pair"] == [{"x": 1}, {"x": 1}, [{"x": 1}]]


def test_too_deep_value_rejected_cleanly() -> None:
    deep: Any = []
    for _ in range(100_000):
        deep = [deep]
    session = Session()
    with pytest.raises(TypeError, match=r"'deep': value is nested deeper than 800 levels"):
        session.set("deep", deep)
    assert session.is_empty


class Color(Enum):
    RED = "red"


class Size(str, Enum):  # noqa: UP042 - str() of this kind is 'Size.SMALL'
    SMALL = "s"


def test_convertible_values_become_plain_json() -> None:
    session = Session()
    when = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
    session.set(
        "v",
        {
            "tuple": (1, 2),
            "enum": Color.RED,
            "str_enum": Size.SMALL,
            "when": when,
            "day": when.date(),
            Size.SMALL: "enum key",
        },
    )
    stored = session["v"]
    assert stored == {
        "tuple": [1, 2],
        "enum": "red",
        "str_enum": "s",
        "when": "2026-11-25T12:00:00+00:00",
        "day": "2026-11-25",
        "s": "enum key",
    }
    assert type(stored["str_enum"]) is str
    assert dumps(stored)  # plain JSON all the way down


def test_update_is_all_or_nothing() -> None:
    session = Session({"a": 1})
    with pytest.raises(TypeError, match="'bad'"):
        session.update({"b": 2, "bad": {1}, "c": 3})
    with pytest.raises(TypeError, match="keys must be strings"):
        session.update({"b": 2, 5: 3})  # type: ignore[dict-item]
    assert session.to_dict() == {"a": 1}
    assert not session.is_modified
    session.update({"b": 2}, c=3)
    assert session.to_dict() == {"a": 1, "b": 2, "c": 3}


# -- no aliasing -------------------------------------------------------------------------


def test_mutating_after_set_does_not_change_the_session() -> None:
    session = Session()
    value: dict[str, Any] = {"items": [{"n": 1}]}
    session.set("cart", value)
    value["items"][0]["n"] = 99
    value["items"].append({"n": 2})
    value["new"] = True
    assert session["cart"] == {"items": [{"n": 1}]}

    model = ShoppingCart()
    session.set("model", model)
    model.items.append(CartItem(name="x", quantity=1, price=1.0))
    assert session["model"]["items"] == []

    initial = {"k": [1]}
    session = Session(initial)
    initial["k"].append(2)
    assert session["k"] == [1]


@pytest.mark.parametrize(
    "read",
    [
        lambda s: s.get("cart"),
        lambda s: s["cart"],
        lambda s: s.to_dict()["cart"],
        lambda s: dict(s.items())["cart"],
        lambda s: s.values()[0],
        lambda s: s.get("cart", as_type=list),
        lambda s: s.get("cart", as_type=Any),
        lambda s: s.get("cart", as_type=list[dict[str, Any]]),
    ],
)
def test_mutating_what_was_read_does_not_change_the_session(read: Any) -> None:
    session = Session({"cart": [{"item": "Widget", "quantity": 2}]})
    got = read(session)
    got[0]["quantity"] = 99
    got.append("extra")
    assert session["cart"] == [{"item": "Widget", "quantity": 2}]
    assert not session.is_modified


class Bag(BaseModel):
    data: dict[str, Any]
    anything: Any


def test_mutating_a_typed_read_does_not_change_the_session() -> None:
    session = Session({"bag": {"data": {"k": [1]}, "anything": {"deep": [1]}}})
    bag = session.get("bag", as_type=Bag)
    bag.data["k"].append(2)
    bag.anything["deep"].append(2)
    assert session["bag"] == {"data": {"k": [1]}, "anything": {"deep": [1]}}


# -- as_type -----------------------------------------------------------------------------


class Status(Enum):
    OPEN = "open"
    CLOSED = "closed"


@dataclass
class Line:
    sku: str
    added: dt.datetime


@dataclass
class Order:
    lines: list[Line]
    status: Status = Status.OPEN


def test_as_type_rebuilds_nested_dataclasses() -> None:
    when = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    order = Order([Line("a", when), Line("b", when)], Status.CLOSED)
    session = Session()
    session.set("order", order)
    assert session["order"] == {
        "lines": [
            {"sku": "a", "added": "2026-01-02T03:04:05+00:00"},
            {"sku": "b", "added": "2026-01-02T03:04:05+00:00"},
        ],
        "status": "closed",
    }
    loaded = session.get("order", as_type=Order)
    assert type(loaded) is Order
    assert all(type(line) is Line for line in loaded.lines)
    assert loaded.lines[1].added == when
    assert loaded.status is Status.CLOSED


def test_as_type_generic_containers_enums_and_datetimes() -> None:
    session = Session()
    items = [CartItem(name="Widget", quantity=2, price=9.99)]
    session.set("items", items)
    session.set("by_name", {"w": items[0]})
    session.set("status", Status.OPEN)
    when = dt.datetime(2026, 11, 25, 12, 30, tzinfo=dt.UTC)
    session.set("when", when)

    loaded = session.get("items", as_type=list[CartItem])
    assert loaded == items
    assert type(loaded[0]) is CartItem
    by_name = session.get("by_name", as_type=dict[str, CartItem])
    assert by_name == {"w": items[0]}
    assert session.get("status", as_type=Status) is Status.OPEN
    assert session.get("when", as_type=dt.datetime) == when
    assert session.get("when") == "2026-11-25T12:30:00+00:00"


@pytest.mark.parametrize(
    ("stored", "as_type", "detail"),
    [
        ({"name": "Widget"}, CartItem, "quantity"),
        ([{"name": "x", "quantity": "many", "price": 1}], list[CartItem], "quantity"),
        ("pending", Status, "open"),
        ({"lines": "no"}, Order, "lines"),
        ("yesterday", dt.datetime, "datetime"),
    ],
)
def test_as_type_mismatch_raises_naming_the_key(stored: Any, as_type: Any, detail: str) -> None:
    session = Session({"thing": stored})
    with pytest.raises(SessionValueError, match=rf"session key 'thing'.*{detail}") as info:
        session.get("thing", as_type=as_type)
    assert isinstance(info.value, ValueError)
    with pytest.raises(SessionValueError):
        session.get("thing", "a default does not hide a mismatch", as_type=as_type)
    assert session["thing"] == stored


def test_missing_key_returns_the_default_itself() -> None:
    session = Session()
    default: list[int] = []
    assert session.get("nope", default) is default
    assert session.get("nope", default, as_type=list[CartItem]) is default
    sentinel = object()
    assert session.get("nope", sentinel, as_type=CartItem) is sentinel
    assert "nope" not in session


# -- is_modified / is_empty --------------------------------------------------------------


def test_is_modified_tracks_real_differences_from_creation() -> None:
    session = Session.from_dict({"a": 1, "flag": True})
    assert not session.is_modified
    session.set("a", 1)
    assert not session.is_modified  # same value: nothing changed
    session.set("a", 2)
    assert session.is_modified
    session.set("a", 1)
    assert not session.is_modified  # back to the original
    session.set("flag", 1)
    assert session.is_modified  # `true` -> `1` is a change, though True == 1
    session.set("flag", True)
    session.delete("missing")
    assert not session.is_modified
    session.delete("a")
    assert session.is_modified


def test_is_empty() -> None:
    session = Session()
    assert session.is_empty
    session["a"] = None
    assert not session.is_empty  # a key holding null is still a key
    del session["a"]
    assert session.is_empty
    assert not Session({"a": 0}).is_empty


# -- dict protocol -----------------------------------------------------------------------


def test_dict_protocol() -> None:
    session = Session({"a": 1, "b": [2]})
    assert session["a"] == 1
    with pytest.raises(KeyError, match="'zz'"):
        session["zz"]
    with pytest.raises(KeyError, match="'zz'"):
        del session["zz"]
    session.delete("zz")  # delete() of a missing key does nothing
    assert "a" in session
    assert "zz" not in session
    assert len(session) == 2
    assert list(session) == ["a", "b"]
    assert session.keys() == ["a", "b"]
    for key in session:  # safe to delete while iterating
        del session[key]
    assert len(session) == 0
    session["x"] = 1
    assert session == {"x": 1}
    assert session == Session({"x": 1})
    assert session != Session({"x": 2})


def test_get_has_and_in_agree_on_null_values() -> None:
    session = Session({"n": None})
    assert session.has("n")
    assert "n" in session
    assert session["n"] is None
    assert session.get("n", "default") is None


# -- transactions ------------------------------------------------------------------------


def test_transaction_commit_keeps_changes() -> None:
    session = Session({"a": 1})
    with session.transaction() as tx:
        session.set("a", 2)
        session.set("b", 3)
    assert session.to_dict() == {"a": 2, "b": 3}
    assert tx.changes() == {"a": (1, 2), "b": (MISSING, 3)}


def test_transaction_rollback_restores_exactly() -> None:
    start = {"a": 1, "b": {"c": [1, 2]}, "d": "x", "e": None}
    session = Session(start)
    before = dumps(session.to_dict())

    def failing_turn() -> None:
        with session.transaction():
            session.delete("a")
            session["b"] = {"c": []}
            session.update({"new": 1, "d": "y"})
            session.set("a", "back at the end")
            del session["e"]
            session.clear()
            session.set("z", 0)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        failing_turn()
    assert dumps(session.to_dict()) == before  # values and key order
    assert session.keys() == ["a", "b", "d", "e"]
    assert not session.is_modified


def test_nested_transactions_roll_back_only_their_own_changes() -> None:
    session = Session({"a": 1, "b": 1})

    def failing_tool() -> None:
        with session.transaction() as inner:
            session.set("a", 3)
            session.set("b", 2)
            session.set("c", 1)
            assert inner.changes() == {"a": (2, 3), "b": (1, 2), "c": (MISSING, 1)}
            raise ValueError("inner")

    with session.transaction() as outer:
        session.set("a", 2)
        with pytest.raises(ValueError, match="inner"):
            failing_tool()
        assert session.to_dict() == {"a": 2, "b": 1}
        assert outer.changes() == {"a": (1, 2)}
        with session.transaction():
            session.set("d", 4)
        assert outer.changes() == {"a": (1, 2), "d": (MISSING, 4)}
    assert session.to_dict() == {"a": 2, "b": 1, "d": 4}


def test_outer_rollback_undoes_a_committed_inner_transaction() -> None:
    session = Session({"a": 1})
    outer = session.transaction()
    with session.transaction():
        session.set("a", 2)
        session.set("b", 2)
    outer.rollback()
    assert session.to_dict() == {"a": 1}


def test_changes_lists_only_keys_that_really_changed() -> None:
    session = Session({"same": [1, {"x": 1}], "back": 1, "flag": True, "f": 0.0})
    with session.transaction() as tx:
        session.set("same", [1, {"x": 1}])  # touched, but equal
        session.set("back", 2)
        session.set("back", 1)  # changed, then restored
        session.set("temp", 1)
        session.delete("temp")  # added, then removed
        session.set("flag", 1)  # `==` says equal; JSON says different
        session.set("f", -0.0)  # serialises differently
        session.delete("never-there")
    assert tx.changes() == {"flag": (True, 1), "f": (0.0, -0.0)}


def test_rollback_after_commit_does_nothing() -> None:
    session = Session({"a": 1})
    tx = session.transaction()
    session.set("a", 2)
    tx.commit()
    session.set("a", 3)
    tx.rollback()
    assert session["a"] == 3


# -- property tests ----------------------------------------------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=10,
)
keys = st.text(max_size=6)
sessions_data = st.dictionaries(keys, json_values, max_size=4)


def mutate_everywhere(value: Any) -> bool:
    """Change every container inside `value` in place; True if there was one."""
    if isinstance(value, list):
        for item in value:
            mutate_everywhere(item)
        value.append("mutated")
        return True
    if isinstance(value, dict):
        for item in value.values():
            mutate_everywhere(item)
        value["\x00mutated"] = True
        return True
    return False


@given(key=keys, value=json_values)
def test_property_set_then_get_is_equal(key: str, value: Any) -> None:
    session = Session()
    session.set(key, value)
    assert dumps(session.get(key)) == dumps(value)
    assert dumps(session[key]) == dumps(value)
    assert dumps(session.to_dict()) == dumps({key: value})


@given(data=sessions_data)
def test_property_to_dict_from_dict_round_trip(data: dict[str, Any]) -> None:
    session = Session.from_dict(data)
    assert dumps(session.to_dict()) == dumps(data)
    again = Session.from_dict(session.to_dict())
    assert dumps(again.to_dict()) == dumps(data)
    assert again == session
    assert not again.is_modified


@given(key=keys, value=json_values)
def test_property_mutating_what_you_set_or_got_changes_nothing(key: str, value: Any) -> None:
    snapshot = dumps(value)
    session = Session()
    session.set(key, value)
    mutate_everywhere(value)
    assert dumps(session[key]) == snapshot
    for read in (session.get(key), session[key], session.to_dict()[key], session.items()[0][1]):
        mutate_everywhere(read)
    assert dumps(session.get(key)) == snapshot
    assert not session.transaction().changes()


# Few distinct keys, so operations hit the same keys often.
op_keys = st.sampled_from(["a", "b", "c"]) | keys
operations = st.lists(
    st.one_of(
        st.tuples(st.just("set"), op_keys, json_values),
        st.tuples(st.just("delete"), op_keys),
        st.tuples(st.just("update"), st.dictionaries(op_keys, json_values, max_size=3)),
        st.tuples(st.just("clear")),
    ),
    max_size=6,
)


def apply(session: Session, op: tuple[Any, ...]) -> None:
    if op[0] == "set":
        session.set(op[1], op[2])
    elif op[0] == "delete":
        session.delete(op[1])
    elif op[0] == "update":
        session.update(op[1])
    else:
        session.clear()


@given(data=st.dictionaries(op_keys, json_values, max_size=4), ops=operations)
def test_property_rollback_restores_and_changes_are_exact(
    data: dict[str, Any], ops: list[tuple[Any, ...]]
) -> None:
    session = Session(data)
    before = session.to_dict()
    tx = session.transaction()
    for op in ops:
        apply(session, op)
    after = session.to_dict()
    expected = {
        k
        for k in {*before, *after}
        if k not in before or k not in after or dumps(before[k]) != dumps(after[k])
    }
    assert set(tx.changes()) == expected
    assert session.is_modified == bool(expected)
    tx.rollback()
    assert dumps(session.to_dict()) == dumps(before)
    assert not session.is_modified
