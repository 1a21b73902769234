"""The generic templates: one registry, test names that lead to their template, and the plugin
collecting a suite module's generated tests under those names, where the module names them."""

from __future__ import annotations

import inspect
import json
import re
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest
from run_support import clean_env

from conformance.contract.importer import build, write
from conformance.contract.openapi import load as load_spec
from conformance.contract.resources import RESOURCES, Resource, resource
from conformance.contract.schemas import Contract, load, shipped
from conformance.model import Expect, Variant
from conformance.sandbox import Sandbox
from conformance.scrubbing.scrubber import Scrubber
from conformance.session.session import ConformanceSession
from conformance.suites.flows import Records
from conformance.suites.generic.generated import REGISTRY, Generated, generated_for
from conformance.suites.generic.templates import Registry, Template
from conformance.transport.settings import Settings

PROJECT = Path(__file__).resolve().parent.parent


def origins() -> list[tuple[str, str, Template]]:
    """(resource, test name, template) for every test the registry makes from the table."""
    return [
        (item.name, case.name, found)
        for item in RESOURCES
        for found in REGISTRY.templates
        for case in found.cases(item)
    ]


@pytest.mark.parametrize(
    ("name", "test_name", "template", "on"),
    [
        (
            "integration",
            "test_create_integration_rejects_missing_required_fields",
            "rejects_missing_required_fields",
            "create",
        ),
        ("integration", "test_update_integration_rejects_wrong_json_types", "rejects_wrong_json_types", "update"),
        ("integration", "test_integration_lifecycle", "lifecycle", None),
        ("integration", "test_list_integrations_filters_by_type", "filters_by", "list"),
        ("user", "test_list_users_filters_by_profile_email", "filters_by", "list"),
        ("user", "test_create_user_rejects_duplicate_external_id", "rejects_duplicate", "create"),
        ("client", "test_create_client_returns_404_for_unknown_user", "returns_404_for_unknown", "create"),
        ("client", "test_remove_client_returns_404_for_unknown_id", "returns_404_for_unknown_id", "delete"),
        ("appKey", "test_create_app_key_refuses_more_than_10", "refuses_more_than", "create"),
    ],
)
def test_a_generated_test_is_named_operation_then_template_then_value(
    name: str, test_name: str, template: str, on: str | None
) -> None:
    [made_by] = [found for item, made, found in origins() if (item, made) == (name, test_name)]
    assert made_by.name == template
    assert on in made_by.on if on else made_by.on == ()
    assert test_name in generated_for(name)


def test_every_generated_test_has_one_template_whose_name_it_holds_and_grep_finds() -> None:
    made = origins()
    assert len({(item, test_name) for item, test_name, _ in made}) == len(made)
    for _, test_name, found in made:
        assert f"_{found.name}" in test_name
        source = inspect.getsource(inspect.getmodule(found.body))  # type: ignore[arg-type]
        assert re.search(rf'template\(\s*"{found.name}"', source), f"{found.name} is not spelled in its template line"


def test_the_generated_test_calls_its_template_with_the_resource_and_its_value() -> None:
    seen: list[tuple[object, ...]] = []
    registry = Registry()

    @registry.template("keeps", on="create", each=lambda item: [(f"v{n}", n) for n in (1, 2)])
    def keeps(sunco: ConformanceSession, item: object, value: int) -> None:
        seen.append((sunco, item, value))

    tests = registry.generate(resource("client"))
    assert list(tests) == ["test_create_client_keeps_v1", "test_create_client_keeps_v2"]
    session = SimpleNamespace(contract=shipped())
    tests["test_create_client_keeps_v2"](session)  # type: ignore[arg-type]
    [(given, item, value)] = seen
    assert (given, value) == (session, 2)
    # The client's record, read against the contract the session checks against.
    assert isinstance(item, Resource)
    assert item.name == "client"
    assert item.contract is session.contract
    # The operations it calls (its parents' creates, the create, the delete that cleans up) skip it
    # on a contract without them.
    operations = tests["test_create_client_keeps_v1"].conformance_operations  # type: ignore[attr-defined]
    assert operations == ("CreateUser", "CreateClient", "RemoveClient")


def test_the_registry_refuses_two_templates_of_one_name_on_one_role() -> None:
    registry = Registry()
    registry.template("twice", on="create")(lambda sunco, item: None)
    registry.template("twice", on="update")(lambda sunco, item: None)
    with pytest.raises(ValueError, match="two templates named twice on"):
        registry.template("twice", on="create")(lambda sunco, item: None)
    with pytest.raises(ValueError, match="made per value is on one role"):
        registry.template("each", on=("get", "delete"), each=lambda item: [])
    with pytest.raises(ValueError, match="says which roles it calls"):
        registry.template("whole", on=None)


def test_the_registry_refuses_two_templates_that_make_one_test() -> None:
    registry = Registry()
    registry.template("rejects_duplicate_external_id", on="create")(lambda sunco, item: None)
    registry.template("rejects_duplicate", on="create", each=lambda item: [("external_id", "externalId")])(
        lambda sunco, item, value: None
    )
    with pytest.raises(ValueError, match="two templates make test_create_user_rejects_duplicate_external_id"):
        registry.generate(resource("user"))


def test_a_suite_module_holds_generated_tests_of_several_resources_in_order() -> None:
    generated = Generated("app", "appKey")
    assert list(generated) == [*generated_for("app"), *generated_for("appKey")]
    assert generated["test_app_key_lifecycle"].__name__ == "test_app_key_lifecycle"


def collect(folder: Path, source: str) -> subprocess.CompletedProcess[str]:
    (folder / "cassettes").mkdir(exist_ok=True)
    (folder / "test_few.py").write_text(source)
    plugins = ["-p", "conformance.plugin.hooks", "-p", "no:cacheprovider"]
    return subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-m", "pytest", *plugins, "--collect-only", "-q", "test_few.py"],
        cwd=folder,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_plugin_collects_generated_tests_by_name_where_the_module_names_them(tmp_path: Path) -> None:
    source = (
        "from conformance.suites.generic.generated import Generated\n\n\n"
        "def test_first(sunco):\n    pass\n\n\n"
        'GENERATED = Generated("appKey")\n\n\n'
        "def test_last(sunco):\n    pass\n"
    )
    done = collect(tmp_path, source)
    assert done.returncode == 0, done.stdout + done.stderr
    listed = [line.split("::")[1] for line in done.stdout.splitlines() if "::" in line]
    assert listed == ["test_first", *generated_for("appKey"), "test_last"]


def test_the_plugin_refuses_a_module_that_defines_a_test_it_also_generates(tmp_path: Path) -> None:
    source = (
        "from conformance.suites.generic.generated import Generated\n\n"
        'GENERATED = Generated("appKey")\n\n\n'
        "def test_create_app_key_requires_credentials(sunco):\n    pass\n"
    )
    done = collect(tmp_path, source)
    assert done.returncode != 0
    assert "test_few.py defines test_create_app_key_requires_credentials, which GENERATED generates too" in done.stdout


def test_records_create_answers_the_id_the_record_and_the_exchange() -> None:
    """Records.create hands back the id, the record as answered, and the exchange: no suite reads
    the session's last exchange after a create."""
    with Sandbox() as sandbox:
        settings = Settings(sandbox.url, sandbox.app_id, sandbox.key_id, sandbox.key_secret)
        sunco = ConformanceSession(
            cassette=None, recording=True, settings=settings, scrubber=Scrubber(), nodeid="t::x", record_command="-"
        )
        made = Records.of(sunco, "user").create(Variant("user", {"externalId": "ann"}, Expect(201)))
        assert made.exchange is sunco.last_exchange
        assert made.record == made.exchange.body["user"]  # type: ignore[index]
        assert made.id == made.record["id"]
        assert made.record["externalId"] == "ann"
        refused = Records.of(sunco, "user").create(Variant("again", {"externalId": "ann"}, Expect(409, "conflict")))
        assert (refused.id, refused.record, refused.exchange.status) == (None, {}, 409)
        sunco.cleanup()


UPGRADE = Path(__file__).parent / "fixtures" / "upgrade"
PARCEL = Resource(
    name="parcel",
    operations={"create": "CreateParcel", "list": "ListParcels", "get": "GetParcel", "delete": "DeleteParcel"},
    id_param="parcelId",
    envelope="parcel",
    collection="parcels",
    parent=None,
    given={"shopId": "s-1"},
    not_found="parcel_not_found",
)


@pytest.fixture(scope="module")
def shop_contracts(tmp_path_factory: pytest.TempPathFactory) -> tuple[Contract, Contract]:
    """The shop's v1, and v1 with a parcel's kind free text (no enum to break)."""
    folder = tmp_path_factory.mktemp("shop")
    write(build(load_spec(UPGRADE / "shop-v1.yaml")), folder / "v1")
    shutil.copytree(folder / "v1", folder / "free")
    body = folder / "free" / "components" / "parcelCreate.json"
    schema = json.loads(body.read_text(encoding="utf-8"))
    del schema["properties"]["kind"]["enum"]
    body.write_text(json.dumps(schema), encoding="utf-8")
    return load(folder / "v1"), load(folder / "free")


def test_generated_tests_of_another_table_are_those_the_contract_offers(
    shop_contracts: tuple[Contract, Contract],
) -> None:
    v1, free = shop_contracts
    generated = Generated("parcel", resources=(PARCEL,))
    offered = generated.made_for(v1)
    assert "test_create_parcel_rejects_values_outside_enums" in offered
    assert {"test_parcel_lifecycle", "test_get_parcel_returns_404_for_unknown_id"} <= set(offered)
    # The project's table is not consulted: no resource of its own is named parcel.
    assert "parcel" not in {item.name for item in RESOURCES}
    assert set(generated.made_for(free)) == set(offered) - {"test_create_parcel_rejects_values_outside_enums"}


def test_generated_with_a_fixed_contract_ignores_the_runs(shop_contracts: tuple[Contract, Contract]) -> None:
    v1, free = shop_contracts
    fixed = Generated("parcel", resources=(PARCEL,), contract=v1)
    assert list(fixed.made_for(free)) == list(fixed) == list(generated_for("parcel", v1, (PARCEL,)))


def test_generated_names_a_resource_its_table_lacks() -> None:
    with pytest.raises(KeyError, match="unknown resource 'app'; known resources: parcel"):
        generated_for("app", resources=(PARCEL,))


def test_a_record_of_another_table_finds_its_parent_in_that_table() -> None:
    person = replace(resource("user"), name="person")
    card = replace(resource("client"), name="card", parent="person")
    tests = generated_for("card", resources=(person, card))
    # Made for the card: its parent's create comes first, from the same table (the project's has no person).
    operations = tests["test_create_client_requires_credentials"].conformance_operations  # type: ignore[attr-defined]
    assert operations == ("CreateUser", "CreateClient", "RemoveClient")
    assert "test_create_client_returns_404_for_unknown_person" in tests
    with pytest.raises(KeyError, match="card's parent 'person' is not in its table"):
        generated_for("card", resources=(card,))
