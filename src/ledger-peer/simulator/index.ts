export type * from './types';
export { loadChaincode, type LoadChaincodeOptions } from './chaincodeSimulator';
export { compareKeys } from './keyOrder';
export { validateReadWriteSet, type ValidationCode } from './mvcc';
