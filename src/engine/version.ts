// The tool's version (recorded with every run) and the checksum that names a script.
import crypto from 'node:crypto';

export const TOOL_VERSION = '0.1.0';

export function sha256(text: string): string {
  return crypto.createHash('sha256').update(text).digest('hex');
}
