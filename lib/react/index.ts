export { createPostgrestApi, type PostgrestReactApi, type ReadData, type TypedReadHook } from './createPostgrestApi';
