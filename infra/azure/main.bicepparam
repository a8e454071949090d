using './main.bicep'

param prefix = 'ledgerflow'
param organizations = ['uis', 'uio', 'uib']
param compute = 'kubernetes'
param fabricPeerEndpoint = 'peer0.uis.example.com:7051'
