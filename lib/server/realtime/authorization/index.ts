/** Authorization of realtime subscribers: token claims, subscriber groups, row and column visibility. */
export { claimsFromToken, CLAIMS_REQUIRED_MESSAGE, MAX_CLAIMS_BYTES, unusableClaims } from './claims.js';
export type { ClaimsResult } from './claims.js';
export { subscriberGroupKey, canonicalJson } from './groupKey.js';
export type { GroupKeyOptions } from './groupKey.js';
export { createVisibilityChecker } from './visibility.js';
export type { BatchFacts, KeyedTable, RowText, SubscriberGroup, TableRef, VisibilityChecker, VisibilityCheckerOptions } from './visibility.js';
export { roleIsUsable, roleExists } from './catalog.js';
export type { Queryable } from './catalog.js';
export { AuthorizationError, isAuthorizationError } from './errors.js';
export type { AuthorizationErrorCode, TokenErrorCode } from './errors.js';
