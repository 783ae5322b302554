// The Azure SQL token audiences, as `.default` scopes: the one place they are spelled. The scope guard
// allows them, the host-name rules (sql-scope.ts) map server suffixes to them, and the public cloud's
// is the token source's default scope.
//
// - Resource IDs per cloud: "Services that support managed identities for Azure resources", table
//   "Azure SQL" (MicrosoftDocs/azure-docs, articles/active-directory/managed-identities-azure-
//   resources/services-support-managed-identities.md): `https://database.windows.net/`,
//   `https://database.usgovcloudapi.net/`, `https://database.chinacloudapi.cn/` (and
//   `https://database.cloudapi.de/`, left out: "Microsoft Cloud Germany was closed on October 29th,
//   2021", @azure/identity `AzureAuthorityHosts.AzureGermany`).
// - Azure Synapse (dedicated and serverless SQL pools) and Microsoft Fabric SQL endpoints (Warehouse,
//   SQL analytics endpoint, SQL database) have NO audience of their own: they take Azure SQL's
//   public-cloud audience. Microsoft's own dbt adapters request `https://database.windows.net//.default`
//   for Fabric warehouses (microsoft/dbt-fabric, fabric_token_provider.py `SQL_CREDENTIAL_SCOPE`) and
//   for Synapse (microsoft/dbt-synapse, whose connection manager extends dbt-fabric's).
// - Not added: `https://analysis.windows.net/powerbi/api/.default` (Fabric's REST API audience, which
//   some tools also use for Fabric SQL). A server can never make us send that token; whoever needs
//   it adds it to `allowedScopes` themselves.

/** The Azure SQL audience of each live cloud, as a `.default` scope. */
export const SQL_SCOPE_OF_CLOUD = Object.freeze({
  /** Azure SQL, Synapse and Fabric in the public cloud. */
  public: "https://database.windows.net/.default",
  usGovernment: "https://database.usgovcloudapi.net/.default",
  china: "https://database.chinacloudapi.cn/.default",
} as const);

/** The Azure SQL audiences of every live cloud: what the scope guard allows by default. */
export const SQL_SCOPES: readonly string[] = Object.freeze(Object.values(SQL_SCOPE_OF_CLOUD));

/** The public cloud's SQL scope: the token source's default. */
export const DEFAULT_SQL_SCOPE = SQL_SCOPE_OF_CLOUD.public;
