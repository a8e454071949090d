// ledgerflow on Azure: a Function App (Flex Consumption, Node 22, system-assigned
// identity), a runtime Storage account (deployment package, Durable Functions task hub,
// queues: identity only, no shared key), a datasets Storage account (Azure Files shares
// that jobs mount through the Azure File CSI driver, which needs the account key),
// Application Insights (Entra ingestion), a platform Key Vault (the datasets account key
// and the cluster's kubeconfig, read through Key Vault references) and one Key Vault per
// organization (RBAC, soft delete, a custom least-privilege secrets role). No secret is a
// parameter or an output. See docs/deploy.md; test/unit/infra checks this file against
// src/config/settings.ts.
targetScope = 'resourceGroup'

@description('Short name used in resource names: lowercase letters and digits.')
@minLength(3)
@maxLength(11)
param prefix string = 'ledgerflow'

param location string = resourceGroup().location

@description('Organizations served by this deployment (short names: lowercase letters, digits, hyphens). Each gets its own Key Vault, named by setting KEY_VAULT_URL_<ORG>.')
@minLength(1)
param organizations array = ['uis', 'uio', 'uib']

@description('Compute backend for workflows: kubernetes (one Job per workflow job) or argo (one Argo Workflow per run). local is for one machine only.')
@allowed(['kubernetes', 'argo'])
param compute string = 'kubernetes'

@description('Kubernetes namespace that runs the jobs (infra/k8s/namespace.yaml).')
param kubernetesNamespace string = 'ledgerflow'

@description('Fabric Gateway endpoint (host:port) of a peer of the consortium network.')
param fabricPeerEndpoint string

@description('TLS server name of that peer when it differs from the endpoint host; empty: the endpoint host.')
param fabricTlsServerName string = ''

@description('Fabric channel and chaincode names (infra/fabric).')
param fabricChannel string = 'ledgerflow'
param fabricChaincode string = 'ledgerflow'

@description('JSON {"<org>": "<MSP id>"} for organizations whose MSP id is not the derived one (uis -> UisMSP); empty: all derived.')
param fabricMspIds string = ''

@description('user@org the app reads chaincode events and expires leases as; it needs a client identity under the identity directory whose certificate carries the Fabric CA attribute ledgerflow.role=platform.')
param fabricServiceIdentity string = 'ledgerflow@${organizations[0]}'

@description('App Service authentication: JSON {"tid:<tenant>" | "group:<object id>" | "role:<app role>": "<org>"} mapping Entra principals to organizations. Empty: no principal is trusted.')
param authPrincipalOrgs string = ''

@description('Client id of the Entra app registration that protects the API (App Service authentication). Empty: authentication is not configured here (configure it before exposing the app).')
param authClientId string = ''

@description('Default lease length in seconds, and the lease expiry schedule (NCRONTAB with seconds).')
param leaseDefaultTtl int = 3600
param leaseExpirySchedule string = '0 * * * * *'
@description('Finished workflow runs older than this are purged (30d, 12h, 15m, 45s; 0 keeps everything); the ledger keeps their records.')
param workflowRetention string = '30d'
@description('NCRONTAB of the purge timer.')
param purgeSchedule string = '0 0 * * * *'

@description('Image of a workflow job whose spec names none.')
param workflowDefaultImage string = 'python:3.12-slim'

@description('Purge protection on the Key Vaults. When on, deleting a dataset cannot purge its key at once (the API reports it) and the key stays recoverable for the retention period, which weakens crypto-shredding; off by default for that reason. It can be turned on later, never off.')
param purgeProtection bool = false

@description('Days a deleted secret stays recoverable (7 to 90).')
@minValue(7)
@maxValue(90)
param softDeleteRetentionInDays int = 7

var suffix = uniqueString(resourceGroup().id, prefix)
var functionAppName = '${prefix}-func-${suffix}'
var runtimeStorageName = take(toLower('${prefix}rt${suffix}'), 24)
var datasetsStorageName = take(toLower('${prefix}ds${suffix}'), 24)
// Vault names: 3-24 characters, letters, digits and single hyphens; one per organization.
var platformVaultName = 'kv-${take(toLower(prefix), 6)}-${suffix}'
var orgVaultNames = [for org in organizations: 'kv-${take(replace(org, '-', ''), 6)}-${uniqueString(resourceGroup().id, prefix, org)}']
// Where the configuration share is mounted in the app: the Fabric TLS CA and client
// identities, which the ledger adapter reads as files (docs/deploy.md).
var configMountPath = '/mounts/config'

// ---- Storage -------------------------------------------------------------------------

// Runtime storage: reached only with the app's managed identity.
resource runtimeStorage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: runtimeStorageName
  location: location
  sku: { name: 'Standard_LRS' }
  kind: 'StorageV2'
  properties: {
    minimumTlsVersion: 'TLS1_2'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    supportsHttpsTrafficOnly: true
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: runtimeStorage
  name: 'default'
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: 'app-package'
}

// The Durable task hub creates its own queues, tables and blobs; these are the app's.
resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: runtimeStorage
  name: 'default'
}

// Queues the app's triggers and output bindings use (functions/).
var queueNames = ['workflow-cleanup']

resource queues 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = [for name in queueNames: {
  parent: queueService
  name: name
}]

// The run index (src/adapters/runIndex/tableRunIndex.ts): every instance of the app lists,
// cancels and purges from this one table in the runtime account, through the identity's
// Storage Table Data Contributor role below (RUN_INDEX=table).
resource runtimeTableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: runtimeStorage
  name: 'default'
}

resource runIndexTable 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = {
  parent: runtimeTableService
  name: 'ledgerflowruns'
}

// Datasets storage: uploads become shares `ds-<dataset id>` here. SMB mounts by the Azure
// File CSI driver (and the Function App's configuration mount) authenticate with the
// account key, so shared key stays on for this account only; the key is written to the
// platform vault and never leaves Azure Resource Manager otherwise.
resource datasetsStorage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: datasetsStorageName
  location: location
  sku: { name: 'Standard_LRS' }
  kind: 'StorageV2'
  properties: {
    minimumTlsVersion: 'TLS1_2'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: true
    supportsHttpsTrafficOnly: true
  }
}

resource fileService 'Microsoft.Storage/storageAccounts/fileServices@2023-05-01' = {
  parent: datasetsStorage
  name: 'default'
  properties: {
    shareDeleteRetentionPolicy: { enabled: true, days: 7 }
  }
}

resource configShare 'Microsoft.Storage/storageAccounts/fileServices/shares@2023-05-01' = {
  parent: fileService
  name: 'ledgerflow-config'
  properties: { shareQuota: 1 }
}

// ---- Monitoring ----------------------------------------------------------------------

resource logs 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: '${prefix}-logs-${suffix}'
  location: location
  properties: { sku: { name: 'PerGB2018' }, retentionInDays: 30 }
}

resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: '${prefix}-ai-${suffix}'
  location: location
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logs.id
    DisableLocalAuth: true
  }
}

// ---- Key Vaults ----------------------------------------------------------------------

resource platformVault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: platformVaultName
  location: location
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: softDeleteRetentionInDays
    // The platform vault holds no dataset key: nothing here is crypto-shredded, so purge
    // protection costs nothing and guards the account key and kubeconfig against a hasty purge.
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled'
  }
}

resource datasetsAccountKey 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: platformVault
  name: 'datasets-account-key'
  properties: {
    value: datasetsStorage.listKeys().keys[0].value
    contentType: 'Azure Storage account key (${datasetsStorage.name})'
  }
}

resource orgVaults 'Microsoft.KeyVault/vaults@2023-07-01' = [for (org, i) in organizations: {
  name: orgVaultNames[i]
  location: location
  tags: { 'ledgerflow-org': org }
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: softDeleteRetentionInDays
    // Once on, purge protection cannot be turned off; `null` leaves it unset.
    enablePurgeProtection: purgeProtection ? true : null
    publicNetworkAccess: 'Enabled'
  }
}]

// ---- Function App --------------------------------------------------------------------

resource plan 'Microsoft.Web/serverfarms@2023-12-01' = {
  name: '${prefix}-plan-${suffix}'
  location: location
  kind: 'functionapp'
  sku: { tier: 'FlexConsumption', name: 'FC1' }
  properties: { reserved: true }
}

// KEY_VAULT_URL_<ORG>: the organization upper-cased, `-` as `_` (src/config/settings.ts).
var keyVaultUrlSettings = [for (org, i) in organizations: {
  name: 'KEY_VAULT_URL_${replace(toUpper(org), '-', '_')}'
  value: 'https://${orgVaultNames[i]}${environment().suffixes.keyvaultDns}/'
}]

// Every app setting the code reads (src/config/settings.ts), except the ones that only
// serve the embedded, one-machine mode (listed in test/unit/infra/settingsDrift.test.ts).
// Flex Consumption takes the runtime from functionAppConfig: no FUNCTIONS_WORKER_RUNTIME
// or FUNCTIONS_EXTENSION_VERSION here.
var appSettings = concat([
  // Host storage and the Durable task hub through the managed identity (Durable Functions
  // extension 2.7+, which the v4 extension bundle in host.json provides).
  { name: 'AzureWebJobsStorage__accountName', value: runtimeStorage.name }
  { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
  { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: insights.properties.ConnectionString }
  { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'Authorization=AAD' }
  { name: 'LEDGERFLOW_HOST', value: 'azure-functions' }
  { name: 'LEDGERFLOW_DATA_DIR', value: '/tmp/ledgerflow' }
  { name: 'LOG_LEVEL', value: 'info' }
  { name: 'LEDGER', value: 'fabric' }
  { name: 'KEY_STORE', value: 'keyvault' }
  { name: 'STORAGE', value: 'azure-files' }
  // Instances share no disk: the run index is a table in the runtime account.
  { name: 'RUN_INDEX', value: 'table' }
  { name: 'RUN_INDEX_TABLE_URL', value: runtimeStorage.properties.primaryEndpoints.table }
  { name: 'RUN_INDEX_TABLE_NAME', value: runIndexTable.name }
  { name: 'COMPUTE', value: compute }
  // Callers authenticate with App Service authentication only; bearer tokens are for local use.
  { name: 'LEDGERFLOW_TOKENS', value: '' }
  { name: 'AUTH_PRINCIPAL_ORGS', value: authPrincipalOrgs }
  { name: 'LEASE_DEFAULT_TTL', value: string(leaseDefaultTtl) }
  { name: 'LEASE_EXPIRY_SCHEDULE', value: leaseExpirySchedule }
  { name: 'WORKFLOW_RETENTION', value: workflowRetention }
  { name: 'PURGE_SCHEDULE', value: purgeSchedule }
  { name: 'FABRIC_PEER_ENDPOINT', value: fabricPeerEndpoint }
  { name: 'FABRIC_TLS_ROOT_CERT', value: '${configMountPath}/fabric/tls-ca.pem' }
  { name: 'FABRIC_TLS_SERVER_NAME', value: fabricTlsServerName }
  { name: 'FABRIC_CHANNEL', value: fabricChannel }
  { name: 'FABRIC_CHAINCODE', value: fabricChaincode }
  { name: 'FABRIC_IDENTITY_DIR', value: '${configMountPath}/fabric/identities' }
  { name: 'FABRIC_MSP_IDS', value: fabricMspIds }
  { name: 'FABRIC_SERVICE_IDENTITY', value: fabricServiceIdentity }
  { name: 'AZURE_FILES_ACCOUNT_URL', value: datasetsStorage.properties.primaryEndpoints.file }
  // A Key Vault reference: the platform resolves it with the app's identity; the key is
  // never in the template's outputs or the deployment history.
  { name: 'AZURE_FILES_CREDENTIAL', value: '@Microsoft.KeyVault(SecretUri=${datasetsAccountKey.properties.secretUri})' }
  // Owners' shares must resolve to public addresses; set true only for private endpoints.
  { name: 'AZURE_FILES_ALLOW_PRIVATE', value: 'false' }
  { name: 'K8S_NAMESPACE', value: kubernetesNamespace }
  // The kubeconfig of the cluster's ledgerflow-controller account, which the operator
  // stores in the platform vault (docs/deploy.md); the setting then holds the YAML itself.
  { name: 'K8S_KUBECONFIG', value: '@Microsoft.KeyVault(VaultName=${platformVault.name};SecretName=kubeconfig)' }
  { name: 'K8S_CONTEXT', value: '' }
  { name: 'K8S_WORKSPACE_STORAGE_CLASS', value: 'ledgerflow-workspace' }
  { name: 'K8S_WORKSPACE_SIZE', value: '1Gi' }
  { name: 'K8S_WORKSPACE_ACCESS_MODE', value: 'ReadWriteMany' }
  { name: 'K8S_RUN_AS_USER', value: '1000' }
  { name: 'K8S_JOB_TTL_SECONDS', value: '3600' }
  { name: 'K8S_NOTIFIER_IMAGE', value: 'curlimages/curl:8.11.1' }
  { name: 'K8S_READER_IMAGE', value: 'busybox:1.37' }
  { name: 'K8S_ARGO_EXECUTOR_SERVICE_ACCOUNT', value: 'ledgerflow-argo-executor' }
  { name: 'WORKFLOW_DEFAULT_IMAGE', value: workflowDefaultImage }
  { name: 'WORKFLOW_DEFAULT_JOB_TIMEOUT', value: '3600' }
  { name: 'WORKFLOW_STATUS_POLL_SECONDS', value: '30' }
  { name: 'WORKFLOW_COMPLETION_GRACE_SECONDS', value: '60' }
  { name: 'WORKFLOW_WATCHDOG_SECONDS', value: '300' }
  // Empty: jobs call back to https://$WEBSITE_HOSTNAME, which Azure Functions sets.
  { name: 'LEDGERFLOW_PUBLIC_URL', value: '' }
], keyVaultUrlSettings)

resource functionApp 'Microsoft.Web/sites@2023-12-01' = {
  name: functionAppName
  location: location
  kind: 'functionapp,linux'
  identity: { type: 'SystemAssigned' }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // Key Vault references resolve with the system-assigned identity.
    keyVaultReferenceIdentity: 'SystemAssigned'
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${runtimeStorage.properties.primaryEndpoints.blob}${deploymentContainer.name}'
          authentication: { type: 'SystemAssignedIdentity' }
        }
      }
      scaleAndConcurrency: { maximumInstanceCount: 40, instanceMemoryMB: 2048 }
      runtime: { name: 'node', version: '22' }
    }
    siteConfig: {
      appSettings: appSettings
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
    }
  }
}

// The configuration share, mounted into every instance (Flex Consumption supports Azure
// Files mounts; they authenticate with the account key).
resource storageMounts 'Microsoft.Web/sites/config@2023-12-01' = {
  parent: functionApp
  name: 'azurestorageaccounts'
  properties: {
    ledgerflowconfig: {
      type: 'AzureFiles'
      accountName: datasetsStorage.name
      shareName: configShare.name
      mountPath: configMountPath
      accessKey: datasetsStorage.listKeys().keys[0].value
    }
  }
}

// App Service authentication in front of every route but health and the job callback
// (jobs authenticate that call themselves); the app maps principals to organizations
// with AUTH_PRINCIPAL_ORGS.
resource authSettings 'Microsoft.Web/sites/config@2023-12-01' = if (authClientId != '') {
  parent: functionApp
  name: 'authsettingsV2'
  properties: {
    platform: { enabled: true }
    globalValidation: {
      requireAuthentication: true
      unauthenticatedClientAction: 'Return401'
      excludedPaths: ['/api/health', '/api/callbacks/jobs']
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: authClientId
          openIdIssuer: '${environment().authentication.loginEndpoint}${subscription().tenantId}/v2.0'
        }
        validation: {
          allowedAudiences: ['api://${authClientId}', authClientId]
        }
      }
    }
    login: { tokenStore: { enabled: false } }
  }
}

// ---- Role assignments ----------------------------------------------------------------

var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  storageFileDataPrivilegedContributor: '69566ab7-960f-475b-8e7c-b3118f30c6bd'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
}

// Runtime storage: blobs (deployment package, task hub leases and large messages), queues
// (task hub and cleanup queue), tables (Durable history and instances, the run index).
var runtimeStorageRoles = [roles.storageBlobDataOwner, roles.storageQueueDataContributor, roles.storageTableDataContributor]

resource runtimeStorageRoleAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for role in runtimeStorageRoles: {
  name: guid(runtimeStorage.id, functionApp.id, role)
  scope: runtimeStorage
  properties: {
    principalId: functionApp.identity.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
  }
}]

// Datasets storage over REST with the identity (listing trees, uploads) when the key is not used.
resource datasetsStorageRoleAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(datasetsStorage.id, functionApp.id, roles.storageFileDataPrivilegedContributor)
  scope: datasetsStorage
  properties: {
    principalId: functionApp.identity.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageFileDataPrivilegedContributor)
  }
}

// Application Insights refuses local (key) authentication: the identity publishes telemetry.
resource insightsRoleAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(insights.id, functionApp.id, roles.monitoringMetricsPublisher)
  scope: insights
  properties: {
    principalId: functionApp.identity.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
  }
}

// Platform vault: read secrets only (Key Vault references).
resource platformVaultRoleAssignment 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(platformVault.id, functionApp.id, roles.keyVaultSecretsUser)
  scope: platformVault
  properties: {
    principalId: functionApp.identity.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
  }
}

// Organization vaults, least privilege: read, write, delete and purge secrets (data keys,
// storage credentials, crypto-shredding); readMetadata for the delete poller. No backup,
// restore or recover, and nothing on keys or certificates.
resource secretsRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(resourceGroup().id, prefix, 'ledgerflow-secrets')
  properties: {
    roleName: 'ledgerflow secrets (${prefix}, ${resourceGroup().name})'
    description: 'Get, set, delete and purge Key Vault secrets: what ledgerflow needs for data keys and storage credentials.'
    type: 'CustomRole'
    assignableScopes: [resourceGroup().id]
    permissions: [
      {
        actions: []
        notActions: []
        dataActions: [
          'Microsoft.KeyVault/vaults/secrets/getSecret/action'
          'Microsoft.KeyVault/vaults/secrets/setSecret/action'
          'Microsoft.KeyVault/vaults/secrets/readMetadata/action'
          'Microsoft.KeyVault/vaults/secrets/delete'
          'Microsoft.KeyVault/vaults/secrets/purge/action'
        ]
        notDataActions: []
      }
    ]
  }
}

resource orgVaultRoleAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for (org, i) in organizations: {
  name: guid(orgVaults[i].id, functionApp.id, secretsRole.id)
  scope: orgVaults[i]
  properties: {
    principalId: functionApp.identity.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: secretsRole.id
  }
}]

// ---- Outputs (names and URLs only) ---------------------------------------------------

output functionAppName string = functionApp.name
output functionAppUrl string = 'https://${functionApp.properties.defaultHostName}/api'
output principalId string = functionApp.identity.principalId
output datasetsStorageName string = datasetsStorage.name
output configShareName string = configShare.name
output platformVaultName string = platformVault.name
output orgVaultNames array = [for (org, i) in organizations: { org: org, vault: orgVaults[i].name }]
