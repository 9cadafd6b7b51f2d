export { ProjectRepository } from './project.repository.js';
export { ProjectService } from './project.service.js';
export { projectRoutes } from './project.routes.js';
