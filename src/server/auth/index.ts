export { AuthService, SESSION_COOKIE } from './auth.service.js';
export { UserRepository } from './user.repository.js';
export { ApiTokenRepository } from './api-token.repository.js';
