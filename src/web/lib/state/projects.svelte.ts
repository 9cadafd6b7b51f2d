import type { Project } from '../../../contract/index.js';
import { SettingsListState } from './settings-list.svelte.js';

/** What the add form sends: a repository path, and optionally a name and the command that checks a change. */
export interface NewProject {
  path: string;
  name: string;
  checkCommand: string;
  /** whether its tasks may reach the internet (through mainloop's proxy) */
  allowNetwork: boolean;
}

/**
 * The person's projects (local git repositories workers may work in): list, add, change the
 * name or the check command, remove with confirmation. The server says what is wrong with a
 * path (not absolute, not a git repository); that message is shown as it is.
 */
export class ProjectsState extends SettingsListState<Project> {
  /** The project being edited. */
  editingId: string | undefined = $state();

  protected async fetch(): Promise<Project[]> {
    return (await this.api.listProjects()).projects;
  }

  /** Returns whether the project was added (so the form can clear itself). */
  async add(input: NewProject): Promise<boolean> {
    return this.run(async () => {
      const name = input.name.trim();
      const checkCommand = input.checkCommand.trim();
      const { project } = await this.api.createProject({
        repo: { kind: 'local', path: input.path.trim() },
        ...(name ? { name } : {}),
        ...(checkCommand ? { checkCommand } : {}),
        ...(input.allowNetwork ? { allowNetwork: true } : {}),
      });
      this.items = [...this.items, project].sort((a, b) => a.name.localeCompare(b.name));
    });
  }

  edit(id: string): void {
    this.editingId = id;
    this.confirmingId = undefined;
    this.error = undefined;
  }

  cancelEdit(): void {
    this.editingId = undefined;
  }

  /** An empty check command removes it. Returns whether the change was saved. */
  async save(id: string, changes: { name: string; checkCommand: string; allowNetwork: boolean }): Promise<boolean> {
    return this.run(async () => {
      const checkCommand = changes.checkCommand.trim();
      const { project } = await this.api.updateProject(id, {
        name: changes.name.trim(),
        checkCommand: checkCommand || null,
        allowNetwork: changes.allowNetwork,
      });
      this.items = this.items.map((existing) => (existing.id === id ? project : existing));
      this.editingId = undefined;
    });
  }

  override askToRemove(id: string): void {
    super.askToRemove(id);
    this.editingId = undefined;
  }

  remove(id: string): Promise<void> {
    return this.removeWith(id, (project) => this.api.deleteProject(project));
  }
}
