// ledgerflow on Azure: a Function App (Flex Consumption, Node 20, system-assigned
// identity), its Storage account (Durable Functions task hub, cleanup queues, dataset
// file shares), Application Insights, and one Key Vault per organization (RBAC, soft
// delete). No secret is a parameter or an output: the app reaches Storage and Key Vault
// with its managed identity.
targetScope = 'resourceGroup'

@description('Short name for the deployment, used in resource names.')
@minLength(3)
@maxLength(11)
param prefix string = 'ledgerflow'

param location string = resourceGroup().location

@description('Organizations served by this deployment (short names, e.g. uis, uio, uib). Each gets its own Key Vault and dataset file share.')
@minLength(1)
param organizations array = ['uis', 'uio', 'uib']

@description('Compute backend for workflows: kubernetes or argo (local is for one machine only).')
@allowed(['kubernetes', 'argo'])
param compute string = 'kubernetes'

@description('Kubernetes namespace that runs the jobs (see infra/k8s).')
param kubernetesNamespace string = 'ledgerflow'

@description('Fabric peer gateway endpoint (host:port) of the consortium network.')
param fabricPeerEndpoint string

@description('Fabric channel and chaincode names.')
param fabricChannel string = 'ledgerflow'
param fabricChaincode string = 'ledgerflow'

@description('Azure AD / Entra mapping of App Service authentication principals to organizations, JSON.')
param authPrincipalOrgs string = '{}'

@description('Default lease length in seconds, and the lease expiry schedule (NCRONTAB with seconds).')
param leaseDefaultTtl int = 3600
param leaseExpirySchedule string = '0 * * * * *'

@description('Purge protection on the Key Vaults. When on, deleting a dataset cannot purge its key at once (the API reports it), which weakens crypto-shredding; off by default for that reason.')
param purgeProtection bool = false

var suffix = uniqueString(resourceGroup().id, prefix)
var storageName = take(toLower('${prefix}${suffix}'), 24)
var functionAppName = '${prefix}-func-${suffix}'

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: storageName
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
  parent: storage
  name: 'default'
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: 'app-package'
}

resource fileService 'Microsoft.Storage/storageAccounts/fileServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

// One share per organization for its datasets (mounted into jobs by the Azure File CSI driver).
resource datasetShares 'Microsoft.Storage/storageAccounts/fileServices/shares@2023-05-01' = [for org in organizations: {
  parent: fileService
  name: 'datasets-${org}'
  properties: { shareQuota: 100 }
}]

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource cleanupQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = {
  parent: queueService
  name: 'workflow-cleanup'
}

resource leaseExpiredQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = {
  parent: queueService
  name: 'lease-expired'
}

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

resource vaults 'Microsoft.KeyVault/vaults@2023-07-01' = [for org in organizations: {
  name: take('${prefix}-${org}-${suffix}', 24)
  location: location
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 7
    enablePurgeProtection: purgeProtection ? true : null
    publicNetworkAccess: 'Enabled'
  }
}]

resource plan 'Microsoft.Web/serverfarms@2023-12-01' = {
  name: '${prefix}-plan-${suffix}'
  location: location
  kind: 'functionapp'
  sku: { tier: 'FlexConsumption', name: 'FC1' }
  properties: { reserved: true }
}

// Every app setting the code reads (src/config/settings.ts); test/infra checks this list
// against the code so the two cannot drift apart silently.
var keyVaultUrls = [for (org, i) in organizations: {
  name: 'KEY_VAULT_URL_${toUpper(org)}'
  value: 'https://${take('${prefix}-${org}-${suffix}', 24)}${environment().suffixes.keyvaultDns}/'
}]

var appSettings = concat([
  { name: 'AzureWebJobsStorage__accountName', value: storage.name }
  { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
  { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'Authorization=AAD' }
  { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: insights.properties.ConnectionString }
  { name: 'LEDGERFLOW_DATA_DIR', value: '/tmp/ledgerflow' }
  { name: 'LEDGER', value: 'fabric' }
  { name: 'KEY_STORE', value: 'keyvault' }
  { name: 'STORAGE', value: 'azure-files' }
  { name: 'COMPUTE', value: compute }
  { name: 'LEDGERFLOW_TOKENS', value: '' }
  { name: 'AUTH_PRINCIPAL_ORGS', value: authPrincipalOrgs }
  { name: 'LEASE_DEFAULT_TTL', value: string(leaseDefaultTtl) }
  { name: 'LEASE_EXPIRY_SCHEDULE', value: leaseExpirySchedule }
  { name: 'LOG_LEVEL', value: 'info' }
  // Read only by the local compute backend (COMPUTE=local); listed so the list stays complete.
  { name: 'LOCAL_SANDBOX', value: 'auto' }
  { name: 'LOCAL_JOB_MEMORY', value: '4Gi' }
  { name: 'WORKFLOW_DEFAULT_IMAGE', value: 'python:3.12-slim' }
  { name: 'WORKFLOW_DEFAULT_JOB_TIMEOUT', value: '3600' }
  { name: 'WORKFLOW_STATUS_POLL_SECONDS', value: '30' }
  { name: 'WORKFLOW_COMPLETION_GRACE_SECONDS', value: '60' }
  { name: 'WORKFLOW_WATCHDOG_SECONDS', value: '300' }
  { name: 'LEDGERFLOW_PUBLIC_URL', value: '' } // empty: https://<WEBSITE_HOSTNAME>
  { name: 'FABRIC_PEER_ENDPOINT', value: fabricPeerEndpoint }
  { name: 'FABRIC_CHANNEL', value: fabricChannel }
  { name: 'FABRIC_CHAINCODE', value: fabricChaincode }
  { name: 'AZURE_FILES_ACCOUNT_URL', value: storage.properties.primaryEndpoints.file }
  { name: 'K8S_NAMESPACE', value: kubernetesNamespace }
], keyVaultUrls)

resource functionApp 'Microsoft.Web/sites@2023-12-01' = {
  name: functionAppName
  location: location
  kind: 'functionapp,linux'
  identity: { type: 'SystemAssigned' }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainer.name}'
          authentication: { type: 'SystemAssignedIdentity' }
        }
      }
      scaleAndConcurrency: { maximumInstanceCount: 40, instanceMemoryMB: 2048 }
      runtime: { name: 'node', version: '20' }
    }
    siteConfig: {
      appSettings: appSettings
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
    }
  }
}

// Built-in roles the app needs on its Storage account: blobs (deployment package, task
// hub leases), queues (Durable task hub and cleanup queues), tables (Durable history),
// and file data (dataset shares).
var storageRoles = [
  'b7e6dc6d-f1e8-4753-8033-0f276bb0955b' // Storage Blob Data Owner
  '974c5e8b-45b9-4653-ba55-5f855dd0fb88' // Storage Queue Data Contributor
  '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3' // Storage Table Data Contributor
  '69566ab7-960f-475b-8e7c-b3118f30c6bd' // Storage File Data Privileged Contributor
]

resource storageRoleAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for role in storageRoles: {
  name: guid(storage.id, functionApp.id, role)
  scope: storage
  properties: {
    principalId: functionApp.identity.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
  }
}]

// Least privilege on secrets: get, set, delete and purge — no list, backup or restore.
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
        dataActions: [
          'Microsoft.KeyVault/vaults/secrets/getSecret/action'
          'Microsoft.KeyVault/vaults/secrets/setSecret/action'
          'Microsoft.KeyVault/vaults/secrets/readMetadata/action'
          'Microsoft.KeyVault/vaults/secrets/delete'
          'Microsoft.KeyVault/vaults/secrets/purge/action'
        ]
      }
    ]
  }
}

resource vaultRoleAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for (org, i) in organizations: {
  name: guid(vaults[i].id, functionApp.id, secretsRole.id)
  scope: vaults[i]
  properties: {
    principalId: functionApp.identity.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: secretsRole.id
  }
}]

output functionAppName string = functionApp.name
output functionAppUrl string = 'https://${functionApp.properties.defaultHostName}/api'
output principalId string = functionApp.identity.principalId
output vaultNames array = [for (org, i) in organizations: vaults[i].name]
