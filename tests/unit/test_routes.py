import pytest

from core.devhost.routes import RouteTemplateError, compile_route


def test_plain_parameter_and_case_insensitive_literals():
    route = compile_route("tenants/{tenant}/chat")
    assert route.match("tenants/demo/chat") == {"tenant": "demo"}
    assert route.match("Tenants/demo/CHAT") == {"tenant": "demo"}
    assert route.match("tenants/demo/chat/extra") is None
    assert route.match("tenants//chat") is None


def test_optional_parameter_drops_its_slash():
    route = compile_route("orders/{id?}")
    assert route.match("orders") == {}
    assert route.match("orders/42") == {"id": "42"}


def test_int_constraint():
    route = compile_route("items/{id:int}")
    assert route.match("items/17") == {"id": "17"}
    assert route.match("items/abc") is None


def test_catch_all():
    route = compile_route("files/{*rest}")
    assert route.match("files/a/b/c.txt") == {"rest": "a/b/c.txt"}
    assert route.match("files") == {}


def test_literal_weight_orders_specific_routes_first():
    assert compile_route("tenants/{t}/chat").literal_weight > compile_route("{*rest}").literal_weight


def test_unknown_constraint_is_rejected():
    with pytest.raises(RouteTemplateError):
        compile_route("x/{id:banana}")
