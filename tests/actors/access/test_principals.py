"""What a key or a user may do: the one decision every entrance asks."""

from __future__ import annotations

import pytest

from scanlet.actors.access.principals import key_principal, user_principal
from scanlet.actors.access.roles import Role, effective_limit
from scanlet.storage.records import ApiKey, UserRow


def key(scope: str, tags: tuple[str, ...] = (), user_id: str | None = "u1") -> ApiKey:
    return ApiKey("k1", "ci", scope, "t", None, False, user_id, tags)


def user(role: str, tags: tuple[str, ...] = ()) -> UserRow:
    return UserRow("u1", "ana@example.com", role, "t", False, tags)


@pytest.mark.parametrize(
    ("scope", "role", "acts_as"),
    [
        ("read", "owner", Role.VIEWER),
        ("write", "owner", Role.EDITOR),
        ("admin", "owner", Role.OWNER),
        ("admin", "admin", Role.ADMIN),
        ("admin", "editor", Role.EDITOR),
        ("write", "viewer", Role.VIEWER),
        ("admin", "viewer", Role.VIEWER),
    ],
)
def test_a_key_acts_with_the_lower_of_its_scope_and_its_users_role(
    scope: str, role: str, acts_as: Role
) -> None:
    assert key_principal(key(scope), user(role)).role == acts_as


@pytest.mark.parametrize(
    ("scope", "acts_as"), [("read", Role.VIEWER), ("write", Role.EDITOR), ("admin", Role.ADMIN)]
)
def test_a_key_of_nobody_acts_by_its_scope_but_never_as_owner(scope: str, acts_as: Role) -> None:
    assert key_principal(key(scope, user_id=None), None).role == acts_as


def test_tag_limits_of_a_user_and_their_key_both_apply() -> None:
    assert key_principal(key("read"), user("viewer")).tags is None
    assert key_principal(key("read", ("a",)), user("viewer")).tags == frozenset({"a"})
    assert key_principal(key("read"), user("viewer", ("a", "b"))).tags == frozenset({"a", "b"})
    assert key_principal(key("read", ("b", "c")), user("viewer", ("a", "b"))).tags == frozenset(
        {"b"}
    )
    # Nothing in common: the key sees no code at all, never every code.
    limited = key_principal(key("read", ("c",)), user("viewer", ("a",)))
    assert limited.tags == frozenset()
    assert not limited.sees(["a", "c"], "menu")


def test_sees_means_one_shared_tag() -> None:
    principal = user_principal(user("viewer", ("agency-x",)))
    assert principal.sees(["agency-x", "print"], "menu")
    assert not principal.sees(["agency-y"], "menu")
    assert not principal.sees([], "menu")
    assert user_principal(user("viewer")).sees([], "menu")
    assert effective_limit((), ()) is None


def test_domain_limits_of_a_user_and_their_key_both_apply_the_default_by_its_host() -> None:
    ana = UserRow("u1", "ana@example.com", "editor", "t", False, (), ("a.test", "qr.test"))
    both = key_principal(key("write"), ana, "qr.test")
    assert both.domains == frozenset({"a.test", ""})
    assert both.sees([], "menu")  # the default domain's code: a bare slug
    assert both.sees([], "a.test/menu")
    assert not both.sees([], "b.test/menu")
    narrow = ApiKey("k1", "ci", "write", "t", None, False, "u1", (), ("a.test",))
    only_a = key_principal(narrow, ana, "qr.test")
    assert only_a.domains == frozenset({"a.test"})
    assert not only_a.sees([], "menu")
    unlimited = key_principal(key("write"), user("editor"), "qr.test")
    assert unlimited.domains is None
    assert not unlimited.limited


def test_tag_and_domain_limits_together_need_a_code_within_both() -> None:
    row = UserRow("u1", "ana@example.com", "viewer", "t", False, ("agency-x",), ("a.test",))
    principal = user_principal(row, "qr.test")
    assert principal.sees(["agency-x"], "a.test/menu")
    assert not principal.sees(["agency-y"], "a.test/menu")
    assert not principal.sees(["agency-x"], "b.test/menu")
    assert not principal.sees(["agency-x"], "menu")
