import { userInfo } from 'node:os';

/** Who runs the CLI, for the request's `requestedBy` (audit). */
export const os = {
  user(): string {
    try {
      return userInfo().username;
    } catch {
      return String(process.getuid?.() ?? 'unknown');
    }
  },
};
