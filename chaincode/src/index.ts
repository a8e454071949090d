// The ledgerflow contract is exported here (see src/ for the contract and its state types).
export const contracts: unknown[] = [];
