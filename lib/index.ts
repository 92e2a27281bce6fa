export * from './postgrest';
export { postgrestBaseQuery, type GetToken, type PostgrestBaseQuery, type PostgrestBaseQueryOptions } from './postgrest/baseQuery';
export * from './api';
export * from './sync';
