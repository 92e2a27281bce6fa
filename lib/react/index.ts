export { createPostgrestApi } from './createPostgrestApi';
