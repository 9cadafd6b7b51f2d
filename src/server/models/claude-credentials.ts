import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** Whether the Claude Code CLI has a sign-in to use, and where it was found. */
export type ClaudeSignIn =
  | { signedIn: true; source: string }
  | {
      signedIn: false;
      /** the places looked at, for the message that says how to sign in */
      looked: string[];
    };

/**
 * Finds the Claude Code CLI's sign-in the way the CLI itself does, without reading the secret:
 * `CLAUDE_CODE_OAUTH_TOKEN` (from `claude setup-token`), then the credentials file
 * `<CLAUDE_CONFIG_DIR or ~/.claude>/.credentials.json` with a `claudeAiOauth` entry (Linux,
 * Windows), then on macOS the login Keychain item `Claude Code-credentials`.
 */
export class ClaudeSignInProbe {
  constructor(
    private readonly options: {
      oauthToken?: string;
      configDir?: string;
      homeDir?: string;
      platform?: NodeJS.Platform;
    } = {},
  ) {}

  async detect(): Promise<ClaudeSignIn> {
    if (this.options.oauthToken) return { signedIn: true, source: 'CLAUDE_CODE_OAUTH_TOKEN' };
    const home = this.options.homeDir ?? os.homedir();
    const configDir = this.options.configDir ?? path.join(home, '.claude');
    const file = path.join(configDir, '.credentials.json');
    const looked = ['CLAUDE_CODE_OAUTH_TOKEN', file];
    if (await hasOauthEntry(file)) return { signedIn: true, source: file };
    if ((this.options.platform ?? process.platform) === 'darwin') {
      looked.push('the macOS Keychain (Claude Code-credentials)');
      if (await keychainHasItem('Claude Code-credentials')) {
        return { signedIn: true, source: 'the macOS Keychain' };
      }
    }
    return { signedIn: false, looked };
  }
}

/** Whether a Claude Code credentials file holds a subscription sign-in (without reading out the secret). */
export async function hasOauthEntry(file: string): Promise<boolean> {
  try {
    const content = JSON.parse(await readFile(file, 'utf8')) as { claudeAiOauth?: { accessToken?: unknown } };
    return typeof content.claudeAiOauth?.accessToken === 'string';
  } catch {
    return false;
  }
}

/** `security find-generic-password -s <service>` without `-w`: asks whether it exists, never for the secret. */
function keychainHasItem(service: string): Promise<boolean> {
  return new Promise((resolve) => {
    execFile('security', ['find-generic-password', '-s', service], { timeout: 5000 }, (error) => resolve(!error));
  });
}
