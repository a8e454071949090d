// Parameters for one deployment: copy, adjust, then
//   az deployment group create -g <group> -f infra/azure/main.bicep -p infra/azure/main.bicepparam
// (docs/deploy.md). Nothing here is secret.
using './main.bicep'

param prefix = 'ledgerflow'
param organizations = ['uis', 'uio', 'uib']
param compute = 'kubernetes'
param kubernetesNamespace = 'ledgerflow'
param fabricPeerEndpoint = 'peer0.uis.example.com:7051'
param fabricServiceIdentity = 'ledgerflow@uis'
// Entra principals to organizations, e.g. one security group per organization.
param authPrincipalOrgs = '{"group:00000000-0000-0000-0000-000000000001": "uis", "group:00000000-0000-0000-0000-000000000002": "uio", "group:00000000-0000-0000-0000-000000000003": "uib"}'
// Client id of the API's Entra app registration (docs/deploy.md, step 6); empty skips it.
param authClientId = ''
param purgeProtection = false
