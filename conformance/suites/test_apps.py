"""Apps and app keys (account scope): the tests the resource table implies, and what an app key may reach."""

from __future__ import annotations

from conformance.contract.resources import resource
from conformance.model import Expect
from conformance.session.session import ConformanceSession
from conformance.suites import flows
from conformance.suites.flows import Records
from conformance.suites.generic.generated import Generated

GENERATED = Generated("app", "appKey")

APP_KEY = resource("appKey")


def test_list_apps_refuses_an_app_scope_key(sunco: ConformanceSession) -> None:
    """An app key has app scope: it reads its own app, and List Apps (account scope) refuses it with 403."""
    sunco.require_account()
    keys = Records(sunco, APP_KEY)
    made = sunco.variants("key", flows.setup_variants(APP_KEY), 1)[0]
    key = keys.create(made)
    key_id = sunco.require(key.id, "an app key", made)
    found = sunco.require(key.record.get("secret"), "the app key's secret", made, pointer=f"/{APP_KEY.envelope}/secret")
    as_key = (key_id, str(found), "app")
    # The key works within its scope, so the refusal below is about scope, not a key the API does not know.
    sunco.call("GetApp", key=as_key, expect=Expect(200))
    sunco.call("ListApps", key=as_key, expect=Expect(403, "forbidden"))
    sunco.finish()
