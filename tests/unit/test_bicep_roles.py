"""Least privilege: each runtime adapter's identity has exactly the data-plane role its SDK calls need, on the one
resource it calls; keys and local auth are off everywhere identity works; Key Vault, budget and HIPAA controls."""

from __future__ import annotations

import pytest

from tests.unit.test_bicep_parsing import resolve, resources, template

ROLES = "modules/roles.bicep"
# adapter (code) -> (Azure role, role definition id, resource type of the scope)
REQUIRED = {
    "Functions host + Durable task hub blobs, knowledge / export / archive blobs (azure-storage-blob)":
        ("Storage Blob Data Owner", "b7e6dc6d-f1e8-4753-8033-0f276bb0955b", "Microsoft.Storage/storageAccounts"),
    "queue triggers, analytics / escalation queues, Durable queues (azure-storage-queue)":
        ("Storage Queue Data Contributor", "974c5e8b-45b9-4653-ba55-5f855dd0fb88", "Microsoft.Storage/storageAccounts"),
    "Durable task hub tables (azure-data-tables)":
        ("Storage Table Data Contributor", "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3", "Microsoft.Storage/storageAccounts"),
    "PII Key Vault vault, Key Vault references (azure-keyvault-secrets)":
        ("Key Vault Secrets Officer", "b86a8fe4-44ce-4948-aee5-eccb2c155cd7", "Microsoft.KeyVault/vaults"),
    "PII Cosmos vault key wrap/unwrap (azure-keyvault-keys CryptographyClient)":
        ("Key Vault Crypto User", "12338af0-0e69-4776-bea7-57ae8d297424", "Microsoft.KeyVault/vaults"),
    "event publisher (azure-eventgrid EventGridPublisherClient)":
        ("EventGrid Data Sender", "d5a91429-5739-47e2-a06b-3470a27159e7", "Microsoft.EventGrid/topics"),
    "LLM router and embedder (openai AzureOpenAI + Entra token provider)":
        ("Cognitive Services OpenAI User", "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd",
         "Microsoft.CognitiveServices/accounts"),
    "telemetry (azure-monitor-opentelemetry, Entra ingestion)":
        ("Monitoring Metrics Publisher", "3913510d-42f4-4e42-8a64-420c390055eb", "Microsoft.Insights/components"),
}
COSMOS_DATA_CONTRIBUTOR = "00000000-0000-0000-0000-000000000002"
BROAD_ROLES = {"8e3af657-a8ff-443c-a75c-2fe8c4bcb635",  # Owner
               "b24988ac-6180-42a0-ab88-20f7382dd24c",  # Contributor
               "17d1049b-9a84-46fb-8f53-869881c3d3ab",  # Storage Account Contributor
               "5bd9cd88-fe45-4216-938b-f97437e15450"}  # DocumentDB Account Contributor


def assignments() -> list[tuple[str, str, str]]:
    """(role definition id, scope resource type, principal expression) of every Azure RBAC assignment."""
    found = resources(ROLES)
    result = []
    for name, resource in found.items():
        if resource["type"] != "Microsoft.Authorization/roleAssignments":
            continue
        properties = resource["config"]["properties"]
        role_ref = properties["roleDefinitionId"]["function"]["parameters"]["resource_name_1"]
        role_id = resolve(ROLES, role_ref)
        scope = found[resource["config"]["scope"]]
        assert scope["existing"], f"{name}: scope must be the one resource, not the group"
        result.append((role_id, scope["type"], properties["principalId"]))
    return result


@pytest.mark.parametrize("adapter", list(REQUIRED))
def test_each_adapter_identity_has_its_role_on_its_resource(adapter):
    _role, role_id, scope_type = REQUIRED[adapter]
    assert (role_id, scope_type, "principalId") in assignments(), adapter


def test_no_other_or_broad_role_is_granted():
    granted = {(role, scope) for role, scope, _ in assignments()}
    expected = {(role_id, scope) for _, role_id, scope in REQUIRED.values()}
    assert granted == expected
    assert not {role for role, _ in granted} & BROAD_ROLES


def test_cosmos_data_access_is_a_sql_role_assignment_on_the_account():
    found = resources(ROLES)
    sql = [r for r in found.values() if r["type"] == "Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments"]
    assert len(sql) == 1
    properties = sql[0]["config"]["properties"]
    assert properties["principalId"] == "principalId"
    assert resolve(ROLES, "cosmosBuiltInDataContributor") == COSMOS_DATA_CONTRIBUTOR
    assert COSMOS_DATA_CONTRIBUTOR in str(properties["roleDefinitionId"]) or \
        "cosmosBuiltInDataContributor" in str(properties["roleDefinitionId"])


def test_keys_and_local_auth_are_off_where_identity_works():
    storage = resources("modules/storage.bicep")["account"]["config"]["properties"]
    assert storage["allowSharedKeyAccess"] is False and storage["minimumTlsVersion"] == "TLS1_2"
    assert resources("modules/cosmos.bicep")["account"]["config"]["properties"]["disableLocalAuth"] is True
    assert resources("modules/openai.bicep")["account"]["config"]["properties"]["disableLocalAuth"] is True
    assert resources("modules/eventgrid.bicep")["topic"]["config"]["properties"]["disableLocalAuth"] is True
    assert resources("modules/monitoring.bicep")["appInsights"]["config"]["properties"]["DisableLocalAuth"] is True
    for path in ("modules/storage.bicep", "modules/eventgrid.bicep", "modules/functionapp.bicep"):
        assert "listKeys" not in str(template(path))


def test_key_vault_rbac_soft_delete_90_days_purge_protection():
    vault = resources("modules/keyvault.bicep")["vault"]["config"]["properties"]
    assert vault["enableRbacAuthorization"] is True
    assert vault["enableSoftDelete"] is True and vault["softDeleteRetentionInDays"] == 90
    assert vault["enablePurgeProtection"] is True
    assert "accessPolicies" not in vault


def test_event_grid_topic_identities_can_only_enqueue_and_dead_letter():
    found = resources("modules/eventgrid.bicep")
    roles = {resolve("modules/eventgrid.bicep", r["config"]["properties"]["roleDefinitionId"]["function"]
                     ["parameters"]["resource_name_1"])
             for r in found.values() if r["type"] == "Microsoft.Authorization/roleAssignments"}
    assert roles == {"c6a89b2d-59bc-44d0-9896-0f6e12d7b80a",  # Storage Queue Data Message Sender
                     "ba92f5b4-2d11-453d-a403-e96b0029c9fe"}  # Storage Blob Data Contributor (dead letters)


def test_budget_alerts_at_83_93_and_100_percent():
    notifications = resources("modules/budget.bicep")["budget"]["config"]["properties"]["notifications"]
    assert sorted(n["threshold"] for n in notifications.values()) == [83, 93, 100]
    assert all(n["enabled"] is True and n["contactEmails"] == "contactEmails" for n in notifications.values())


def test_private_endpoints_cover_every_data_service_and_hipaa_forces_them():
    endpoints = resolve("modules/private-endpoints.bicep", "endpoints")
    assert {e["group"] for e in endpoints} == {"blob", "queue", "table", "Sql", "vault", "account", "topic"}
    main = template("main.bicep")
    assert main["variables"]["privateOnly"]["value"] == {
        "operator": {"type": "or", "operands": {"operand_1": "hipaa", "operand_2": "privateNetworking"}}} or \
        "hipaa" in str(main["variables"]["privateOnly"]["value"])
    assert "privateOnly" in str(main["modules"]["privateEndpoints"]["config"])


def test_log_retention_follows_the_tenant_policy_up_to_six_years():
    monitoring = template("modules/monitoring.bicep")
    retention = monitoring["parameters"]["retentionDays"]
    assert "4383" in str(retention["decorators"])  # Log Analytics' longest total retention (12 years)
    tables = resources("modules/monitoring.bicep")["tables"]["config"]["properties"]
    assert tables["totalRetentionInDays"] == "retentionDays"
