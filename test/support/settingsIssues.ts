import { SettingsError, type SettingsIssue } from '../../src/api/errors.js';
import { loadSettings, type SettingsInput } from '../../src/node/settings.js';

/** The issues `loadSettings({ ...base, ...input })` is refused with; none when it is accepted. */
export function settingsIssuesOf(base: SettingsInput, input: Record<string, unknown>): readonly SettingsIssue[] {
  try {
    loadSettings({ ...base, ...input });
  } catch (error) {
    if (error instanceof SettingsError) return error.issues;
    throw error;
  }
  return [];
}
